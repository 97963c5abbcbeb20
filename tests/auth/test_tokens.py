"""Access tokens: claims, algorithm and jsonwebtoken's failure messages (feathers-wire 7.3, 7.11)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from cryptorobot import ManualClock
from cryptorobot.auth.revocation import issued_ms
from cryptorobot.auth.tokens import TokenIssuer, parse_duration
from cryptorobot.errors import NotAuthenticated

SECRET = "s" * 64


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(SECRET, audience="cryptorobot", issuer="cryptorobot")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def rejection(issuer: TokenIssuer, token: object) -> dict:
    with pytest.raises(NotAuthenticated) as caught:
        issuer.verify(token)
    return caught.value.to_json()


def test_claims_of_a_new_token(issuer: TokenIssuer) -> None:
    before = int(time.time())
    token = issuer.create("42")
    after = int(time.time())
    payload = claims(token)
    assert set(payload) == {"sub", "iat", "exp", "aud", "iss", "jti"}
    assert payload["sub"] == "42"
    assert before <= payload["iat"] <= after
    assert payload["exp"] - payload["iat"] == 86400  # the default lifetime: one day
    assert payload["aud"] == "cryptorobot"
    assert payload["iss"] == "cryptorobot"
    assert uuid.UUID(payload["jti"]).version == 7  # RFC 9562: the issue time in ms, then random bits
    assert before * 1000 <= issued_ms(payload) <= (after + 1) * 1000
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "access"}


def test_subject_is_always_a_string(issuer: TokenIssuer) -> None:
    assert claims(issuer.create(0))["sub"] == "0"  # type: ignore[arg-type]


def test_every_token_has_its_own_id(issuer: TokenIssuer) -> None:
    assert claims(issuer.create("1"))["jti"] != claims(issuer.create("1"))["jti"]


def test_verify_returns_the_claims(issuer: TokenIssuer) -> None:
    token = issuer.create("7")
    assert issuer.verify(token) == claims(token)


@pytest.mark.parametrize(("expires_in", "seconds"), [("2s", 2), ("30m", 1800), ("12h", 43200), ("1d", 86400), (3600, 3600)])
def test_lifetime_is_configurable(expires_in: str | int, seconds: int) -> None:
    payload = claims(TokenIssuer(SECRET, expires_in=expires_in).create("1"))
    assert payload["exp"] - payload["iat"] == seconds


@pytest.mark.parametrize("empty", [None, ""])
def test_without_audience_and_issuer_the_claims_are_absent(empty: str | None) -> None:
    issuer = TokenIssuer(SECRET, audience=empty, issuer=empty)
    token = issuer.create("1")
    assert set(claims(token)) == {"sub", "iat", "exp", "jti"}
    assert issuer.verify(token)["sub"] == "1"


@pytest.mark.parametrize(("text", "seconds"), [("1d", 86400), ("1.5h", 5400), ("90", 90), (" 2 s ", 2), ("1w", 604800),
                                               ("500ms", 0), (60, 60)])
def test_parse_duration(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1 day", "d", "-1d", "1x"])
def test_parse_duration_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("secret", ["", None, 123])
def test_secret_must_be_a_non_empty_string(secret: object) -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        TokenIssuer(secret)  # type: ignore[arg-type]


# -- rejected tokens ------------------------------------------------------------------------------

def test_unsigned_alg_none_token(issuer: TokenIssuer) -> None:
    token = jwt.encode(claims(issuer.create("1")), None, algorithm="none")
    assert token.endswith(".")
    assert rejection(issuer, token) == {
        "name": "NotAuthenticated", "message": "jwt signature is required", "code": 401,
        "className": "not-authenticated", "data": {"name": "JsonWebTokenError"}}


def test_alg_none_with_a_borrowed_signature(issuer: TokenIssuer) -> None:
    real = issuer.create("1")
    _, payload, signature = real.split(".")
    forged = f"{b64({'alg': 'none', 'typ': 'access'})}.{payload}.{signature}"
    assert rejection(issuer, forged)["message"] == "invalid algorithm"


def test_another_algorithm_than_configured(issuer: TokenIssuer) -> None:
    token = jwt.encode(claims(issuer.create("1")), SECRET, algorithm="HS512")
    error = rejection(issuer, token)
    assert (error["message"], error["data"]) == ("invalid algorithm", {"name": "JsonWebTokenError"})


def test_signed_with_another_secret(issuer: TokenIssuer) -> None:
    token = TokenIssuer("another secret " * 4, audience="cryptorobot", issuer="cryptorobot").create("1")
    error = rejection(issuer, token)
    assert (error["message"], error["data"]) == ("invalid signature", {"name": "JsonWebTokenError"})


def test_tampered_payload(issuer: TokenIssuer) -> None:
    header, payload, signature = issuer.create("1").split(".")
    forged_claims = {**claims(f"{header}.{payload}.{signature}"), "sub": "2"}
    error = rejection(issuer, f"{header}.{b64(forged_claims)}.{signature}")
    assert error["message"] == "invalid signature"


def test_expired_token(issuer: TokenIssuer) -> None:
    exp = int(time.time()) - 10
    token = jwt.encode({"sub": "1", "iat": exp - 60, "exp": exp, "aud": "cryptorobot", "iss": "cryptorobot"},
                       SECRET, algorithm="HS256")
    expected_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(exp))
    assert rejection(issuer, token) == {
        "name": "NotAuthenticated", "message": "jwt expired", "code": 401, "className": "not-authenticated",
        "data": {"name": "TokenExpiredError", "expiredAt": expected_at}}


def test_token_that_expires_while_held() -> None:
    clock = ManualClock(1_700_000_000.5)
    issuer = TokenIssuer(SECRET, expires_in=60, clock=clock)
    token = issuer.create("1")
    assert claims(token)["iat"] == 1_700_000_000 and claims(token)["exp"] == 1_700_000_060
    clock.set(1_700_000_059.999)
    assert issuer.verify(token)["sub"] == "1"
    clock.set(1_700_000_060)  # expired from `exp` on, as jsonwebtoken says
    assert rejection(issuer, token) == {
        "name": "NotAuthenticated", "message": "jwt expired", "code": 401, "className": "not-authenticated",
        "data": {"name": "TokenExpiredError", "expiredAt": "2023-11-14T22:14:20.000Z"}}


def test_times_are_checked_against_the_injected_clock() -> None:
    clock = ManualClock(1_800_000_000)  # 2027, whatever the machine's clock says
    issuer = TokenIssuer(SECRET, audience="cryptorobot", issuer="cryptorobot", clock=clock)
    now = 1_800_000_000
    future = jwt.encode({"sub": "1", "iat": now, "exp": now + 600, "nbf": now + 60, "aud": "cryptorobot",
                         "iss": "cryptorobot"}, SECRET, algorithm="HS256")
    assert rejection(issuer, future)["message"] == "jwt not active"
    clock.advance(60)
    assert issuer.verify(future)["sub"] == "1"
    issued_later = TokenIssuer(SECRET, audience="cryptorobot", issuer="cryptorobot", clock=ManualClock(now + 3600))
    assert rejection(issuer, issued_later.create("1"))["message"] == "jwt not active"  # `iat` ahead of our clock
    clock.advance(600)
    assert rejection(issuer, future)["message"] == "jwt expired"


def test_an_expired_token_for_another_audience_is_expired_first() -> None:
    """pyjwt (and jsonwebtoken) check the times before the audience; so do we."""
    clock = ManualClock(1_800_000_000)
    stranger = TokenIssuer(SECRET, audience="elsewhere", issuer="cryptorobot", expires_in=10, clock=clock)
    token = stranger.create("1")
    issuer = TokenIssuer(SECRET, audience="cryptorobot", issuer="cryptorobot", clock=clock)
    assert rejection(issuer, token)["message"] == "jwt audience invalid. expected: cryptorobot"
    clock.advance(10)
    assert rejection(issuer, token)["message"] == "jwt expired"


def test_wrong_audience(issuer: TokenIssuer) -> None:
    token = TokenIssuer(SECRET, audience="elsewhere", issuer="cryptorobot").create("1")
    assert rejection(issuer, token)["message"] == "jwt audience invalid. expected: cryptorobot"


def test_wrong_issuer(issuer: TokenIssuer) -> None:
    token = TokenIssuer(SECRET, audience="cryptorobot", issuer="mallory").create("1")
    assert rejection(issuer, token)["message"] == "jwt issuer invalid. expected: cryptorobot"


def test_not_yet_valid(issuer: TokenIssuer) -> None:
    now = int(time.time())
    token = jwt.encode({"sub": "1", "iat": now, "exp": now + 60, "nbf": now + 30, "aud": "cryptorobot",
                        "iss": "cryptorobot"}, SECRET, algorithm="HS256")
    assert rejection(issuer, token)["message"] == "jwt not active"


def test_missing_subject(issuer: TokenIssuer) -> None:
    now = int(time.time())
    token = jwt.encode({"iat": now, "exp": now + 60, "aud": "cryptorobot", "iss": "cryptorobot"}, SECRET, algorithm="HS256")
    assert rejection(issuer, token)["message"] == "invalid token"


@pytest.mark.parametrize("token", ["abc", "a.b", "a.b.c.d"])
def test_malformed(issuer: TokenIssuer, token: str) -> None:
    assert rejection(issuer, token)["message"] == "jwt malformed"


@pytest.mark.parametrize("token", ["x.y.z", "eyJhbGciOiJIUzI1NiJ9.!!!.sig"])
def test_three_parts_that_do_not_decode(issuer: TokenIssuer, token: str) -> None:
    assert rejection(issuer, token) == {"name": "NotAuthenticated", "message": "invalid token", "code": 401,
                                        "className": "not-authenticated", "data": {"name": "JsonWebTokenError"}}


@pytest.mark.parametrize("token", [None, "", 12, {"$ne": ""}])
def test_no_token(issuer: TokenIssuer, token: object) -> None:
    assert rejection(issuer, token) == {
        "name": "NotAuthenticated", "message": "No access token", "code": 401, "className": "not-authenticated"}
