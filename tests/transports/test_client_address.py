"""The client's address behind trusted proxies (cryptorobot/transports/client_address.py)."""

from __future__ import annotations

import pytest

from cryptorobot.transports.client_address import client_address


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("10.0.0.1", None, 0, "10.0.0.1"),  # no proxies: the peer
    ("10.0.0.1", "6.6.6.6", 0, "10.0.0.1"),  # a client's own header is ignored
    ("10.0.0.1", "203.0.113.7", 1, "203.0.113.7"),  # one proxy: what it appended
    ("10.0.0.1", "6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),  # what the client put before is ignored
    ("10.0.0.2", "6.6.6.6, 203.0.113.7, 10.0.0.1", 2, "203.0.113.7"),  # two proxies
    ("10.0.0.1", "203.0.113.7", 3, "203.0.113.7"),  # fewer hops than trusted: the leftmost
    ("10.0.0.1", " , ", 1, "10.0.0.1"),  # nothing forwarded: the peer
    (None, None, 0, None),
])
def test_the_client_is_counted_from_the_right(peer: str | None, forwarded: str | None, trusted: int,
                                              expected: str | None) -> None:
    headers = {} if forwarded is None else {"x-forwarded-for": forwarded}
    assert client_address(peer, headers, trusted) == expected
