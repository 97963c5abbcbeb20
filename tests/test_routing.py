import pytest

from cryptorobot.routing import Router, strip_path


def test_strip_path() -> None:
    assert strip_path("/messages/") == "messages"


def test_literal_beats_placeholder_and_placeholders_fill_params() -> None:
    router: Router[str] = Router()
    router.insert("users/:userId/messages", "user-messages")
    router.insert("users/:userId/messages/:__id", "user-message")
    router.insert("users/me/messages", "my-messages")
    assert router.lookup(["users", "me", "messages"]) == ("my-messages", {})
    assert router.lookup(["users", "7", "messages"]) == ("user-messages", {"userId": "7"})
    assert router.lookup(["users", "7", "messages", "3"]) == ("user-message", {"userId": "7", "__id": "3"})


def test_no_partial_or_extra_matches() -> None:
    router: Router[str] = Router()
    router.insert("traders/pods/events", "events")
    router.insert("traders/pods/events/:__id", "event")
    assert router.lookup(["traders", "pods"]) is None
    assert router.lookup(["traders", "pods", "events", "1", "extra"]) is None
    assert router.lookup(["Traders", "pods", "events"]) is None


def test_backtracks_to_a_later_placeholder() -> None:
    router: Router[str] = Router()
    router.insert(":a/x", "first")
    router.insert(":b/y", "second")
    assert router.lookup(["q", "y"]) == ("second", {"b": "q"})


def test_duplicate_registration_is_refused() -> None:
    router: Router[str] = Router()
    router.insert("messages", "one")
    with pytest.raises(ValueError):
        router.insert("/messages/", "two")
