"""Error construction and JSON shape (feathers-wire 3.2, 3.3)."""

from cryptorobot.errors import BadRequest, Conflict, FeathersError, GeneralError, NotFound, convert, from_json


def test_message_defaults_and_no_data() -> None:
    assert NotFound().to_json() == {"name": "NotFound", "message": "Error", "code": 404, "className": "not-found"}
    assert NotFound("x").to_json() == {"name": "NotFound", "message": "x", "code": 404, "className": "not-found"}


def test_dict_data_lifts_message_and_errors() -> None:
    error = BadRequest("x", {"errors": {"email": ["bad"]}, "foo": 1})
    assert error.to_json() == {"name": "BadRequest", "message": "x", "code": 400, "className": "bad-request",
                               "data": {"foo": 1}, "errors": {"email": ["bad"]}}
    assert BadRequest("x", {"message": "y"}).message == "y"
    assert NotFound("x", {}).to_json()["data"] == {}


def test_list_data_is_kept_as_it_is() -> None:
    assert BadRequest("validation failed", [{"path": "a"}]).to_json()["data"] == [{"path": "a"}]


def test_first_argument_may_be_a_dict() -> None:
    error = Conflict({"message": "taken", "field": "email"})
    assert (error.message, error.data) == ("taken", {"field": "email"})


def test_unexpected_exceptions_reveal_nothing() -> None:
    converted = convert(RuntimeError("password=hunter2 at db"))
    assert isinstance(converted, GeneralError)
    assert converted.to_json() == {"name": "GeneralError", "message": "Internal server error", "code": 500,
                                   "className": "general-error"}
    known = NotFound("kept")
    assert convert(known) is known


def test_from_json_rebuilds_by_name_then_code() -> None:
    rebuilt = from_json({"name": "Conflict", "message": "m", "code": 409, "className": "conflict", "data": {"a": 1}})
    assert isinstance(rebuilt, Conflict) and rebuilt.data == {"a": 1}
    by_code = from_json({"name": "Teapot", "message": "m", "code": 404})
    assert isinstance(by_code, NotFound)
    unknown = from_json({"message": "m"})
    assert isinstance(unknown, GeneralError) and isinstance(unknown, FeathersError)


def test_from_json_takes_any_code_a_server_sends() -> None:
    """A code that is not a number (a list, an object) gives a GeneralError, not a TypeError."""
    for code in ([404], {"status": 404}, "404", None):
        rebuilt = from_json({"name": "Teapot", "message": "m", "code": code})
        assert type(rebuilt) is GeneralError and rebuilt.message == "m"
