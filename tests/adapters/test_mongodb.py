"""MongoService behaviour beyond the conformance suite: ids at the edge, errors, indexes,
what reaches the server, connection loss, and the `storage = "mongodb"` setting.

Tests taking `make_service` run against nx-27017 ("mongodb") and, when MONGODB_URL is set,
against that server too ("mongodb-url"); `deviation("mongodb", ...)` marks what nx-27017
itself gets wrong. Tests that stop a server run their own nx-27017.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import CodecOptions, ObjectId
from pymongo import AsyncMongoClient, monitoring

import nx_server
from cryptorobot.adapters import Index, MongoService
from cryptorobot.adapters.mongodb import clients
from cryptorobot.adapters.mongodb.filters import NEVER, FilterBuilder, id_condition
from cryptorobot.adapters.mongodb.service import index_name
from cryptorobot.errors import BadRequest, Conflict, NotFound, Unavailable

SERVERS = ["mongodb"] + (["mongodb-url"] if os.environ.get("MONGODB_URL") else [])
HEX = "568225fbfe21222432e836ff"


@pytest.fixture(params=SERVERS)
def adapter(request: pytest.FixtureRequest) -> str:
    """Only the MongoDB adapters (overrides the conftest's every-adapter fixture)."""
    return request.param


def raw(service: MongoService) -> Any:
    """The service's collection without the adapter's decoding (ObjectIds stay ObjectIds)."""
    return service.collection.with_options(codec_options=CodecOptions(tz_aware=True, tzinfo=UTC))


class Commands(monitoring.CommandListener):
    """Records the commands a client sends (name and body), for one service's client."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("hello", "isMaster", "ismaster", "endSessions", "ping", "listIndexes", "createIndexes"):
            self.sent.append((event.command_name, dict(event.command)))

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        sent, self.sent = self.sent, []
        return sent


# -- ids at the adapter's edge -----------------------------------------------------------------


async def test_new_ids_are_object_ids_sent_as_text(make_service) -> None:
    service = await make_service(id="_id")
    created = await service.create({"name": "Doug"})
    assert type(created["_id"]) is str and len(created["_id"]) == 24
    stored = await raw(service).find_one({})
    assert stored["_id"] == ObjectId(created["_id"])
    assert await service.get(created["_id"]) == created
    assert await service.find({"query": {"_id": created["_id"]}}) == [created]
    assert await service.find({"query": {"_id": {"$in": [created["_id"], HEX]}}}) == [created]
    assert await service.find({"query": {"_id": {"$nin": [HEX]}}}) == [created]
    assert await service.patch(created["_id"], {"age": 3}) == {**created, "age": 3}


async def test_ids_sort_in_creation_order(make_service) -> None:
    service = await make_service(id="_id", multi=True)
    created = await service.create([{"n": n} for n in range(20)])
    created += [await service.create({"n": n}) for n in range(20, 40)]
    assert [record["_id"] for record in created] == sorted(record["_id"] for record in created)
    assert [r["n"] for r in await service.find({"query": {"$sort": {"_id": 1}}})] == list(range(40))


async def test_object_id_conditions_on_a_renamed_id(make_service) -> None:
    service = await make_service(id="id")
    created = await service.create({"name": "Doug"})
    stored = await raw(service).find_one({})
    assert set(stored) == {"_id", "name"} and stored["_id"] == ObjectId(created["id"])
    assert await service.find({"query": {"id": {"$ne": created["id"]}}}) == []
    assert await service.find({"query": {"id": created["id"], "$select": ["id"]}}) == [{"id": created["id"]}]
    with pytest.raises(BadRequest):
        await service.create({"_id": "x", "name": "reserved"})
    with pytest.raises(BadRequest):
        await service.patch(created["id"], {"_id": "x"})


async def test_supplied_ids_keep_their_type(make_service) -> None:
    service = await make_service(id="_id")
    text = await service.create({"_id": "custom-id", "name": "text"})
    number = await service.create({"_id": 7, "name": "number"})
    hex_text = await service.create({"_id": HEX, "name": "hex"})
    assert (text["_id"], number["_id"], hex_text["_id"]) == ("custom-id", 7, HEX)
    stored = {doc["name"]: doc["_id"] for doc in await raw(service).find({}).to_list(None)}
    assert stored == {"text": "custom-id", "number": 7, "hex": ObjectId(HEX)}
    # As in memory (keyed by str(id)), a REST id "7" finds the number 7, and it stays a number.
    assert await service.get("7") == number
    assert await service.get(7) == number
    assert await service.get("custom-id") == text
    assert await service.patch("7", {"age": 1}) == {**number, "age": 1}
    assert (await service.remove("7"))["_id"] == 7


@pytest.mark.deviation("mongodb", reason="nx-27017 find_one_and_replace rewrites the _id as a string")
async def test_update_keeps_the_stored_id_and_its_type(make_service) -> None:
    service = await make_service(id="_id")
    number = await service.create({"_id": 7, "name": "number"})
    generated = await service.create({"name": "generated"})
    assert await service.update("7", {"_id": "ignored", "name": "seven"}) == {"_id": 7, "name": "seven"}
    await service.update(generated["_id"], {"name": "replaced"})
    stored = {doc["name"]: doc["_id"] for doc in await raw(service).find({}).to_list(None)}
    assert stored == {"seven": 7, "replaced": ObjectId(generated["_id"])}
    assert number["_id"] == 7


@pytest.mark.parametrize("id", ["not-an-id", "zz" * 12, HEX.upper(), "", "1" * 40, str(2**70), 2**70, 1.5])
async def test_malformed_or_unknown_ids_are_not_found(make_service, id: Any) -> None:
    service = await make_service(id="_id")
    await service.create({"name": "Doug"})
    for call in (lambda: service.get(id), lambda: service.update(id, {"name": "x"}),
                 lambda: service.patch(id, {"name": "x"}), lambda: service.remove(id)):
        with pytest.raises(NotFound):
            await call()
    with pytest.raises(NotFound):
        await service.get(None)


@pytest.mark.parametrize("id", [{"$gt": ""}, {"$ne": None}, ["a"], {"_id": 1}])
async def test_ids_of_impossible_types_are_bad_requests_not_queries(make_service, id: Any) -> None:
    service = await make_service(id="_id")
    await service.create({"name": "Doug"})
    for call in (service.get, service.remove):
        with pytest.raises(BadRequest):
            await call(id)
    with pytest.raises(BadRequest):
        await service.patch(id, {"name": "x"})
    assert len(await service.find()) == 1


# -- values ------------------------------------------------------------------------------------


async def test_datetimes_are_utc_milliseconds(make_service) -> None:
    service = await make_service(id="_id")
    naive = datetime(2024, 3, 13, 17, 21, 50, 123456)
    created = await service.create({"at": naive})
    assert created["at"] == datetime(2024, 3, 13, 17, 21, 50, 123000, tzinfo=UTC)
    assert created["at"].tzinfo is not None
    assert await service.get(created["_id"]) == created


@pytest.mark.parametrize("data", [{"big": 2**70}, {"bad": {1, 2}}, {"bad": object()}])
async def test_values_mongodb_cannot_hold_are_bad_requests(make_service, data: dict) -> None:
    service = await make_service(id="_id")
    with pytest.raises(BadRequest):
        await service.create(data)
    assert await service.find() == []


@pytest.mark.parametrize("data", [{"a.b": 1}, {"$set": {"a": 1}}, {"": 1}])
async def test_patch_refuses_keys_set_would_read_as_paths(make_service, data: dict) -> None:
    service = await make_service(id="_id")
    created = await service.create({"a": {"b": 0}})
    with pytest.raises(BadRequest):
        await service.patch(created["_id"], data)
    assert await service.get(created["_id"]) == created


async def test_a_query_on_a_huge_int_is_a_bad_request(make_service) -> None:
    service = await make_service(id="_id")
    with pytest.raises(BadRequest):
        await service.find({"query": {"n": 2**70}})


# -- duplicates and indexes ----------------------------------------------------------------------


async def test_duplicate_ids_and_values_are_conflicts(make_service) -> None:
    email = Index(("email",), unique=True)
    service = await make_service(id="_id", multi=True, indexes=[email, "name"])
    await service.create({"_id": "doug", "email": "d@example.com"})
    with pytest.raises(Conflict):
        await service.create({"_id": "doug", "email": "other@example.com"})
    with pytest.raises(Conflict) as caught:
        await service.create({"email": "d@example.com"})
    assert (caught.value.message, caught.value.data) == (email.conflict().message, email.conflict().data)
    assert caught.value.code == 409


@pytest.mark.deviation("mongodb", reason="nx-27017 reports a duplicate _id as 'UNIQUE constraint failed: <collection>._id', "
                                          "without the index")
async def test_a_duplicate_id_names_the_id_field(make_service) -> None:
    service = await make_service(id="id")
    await service.create({"id": "doug"})
    with pytest.raises(Conflict) as caught:
        await service.create({"id": "doug"})
    assert (caught.value.message, caught.value.data) == ("A record with this id already exists", {"fields": ["id"]})


async def test_a_multi_create_hitting_a_duplicate_stores_nothing(make_service) -> None:
    service = await make_service(id="_id", multi=True, indexes=[Index(("email",), unique=True)])
    await service.create({"email": "taken@example.com"})
    batch = [{"email": "new1@example.com"}, {"email": "new2@example.com"}, {"email": "taken@example.com"},
             {"email": "new3@example.com"}]
    with pytest.raises(Conflict):
        await service.create(batch)
    assert [r["email"] for r in await service.find()] == ["taken@example.com"]


async def test_a_multi_patch_hitting_a_duplicate_changes_nothing(make_service) -> None:
    service = await make_service(id="_id", multi=True, indexes=[Index(("email",), unique=True)])
    created = await service.create([{"name": n, "email": f"{n}@example.com", "n": i} for i, n in enumerate("abc")])
    with pytest.raises(Conflict):
        await service.patch(None, {"email": "same@example.com", "extra": 1}, {"query": {"name": {"$in": ["a", "b"]}}})
    assert await service.find({"query": {"$sort": {"n": 1}}}) == created


async def test_declared_indexes_exist_after_setup(make_service) -> None:
    service = await make_service(id="_id", indexes=[Index(("email",), unique=True), "name",
                                                    Index(("exchange", "symbol"))])
    info = await service.collection.index_information()
    keys = {tuple(field for field, _ in spec["key"]): bool(spec.get("unique")) for spec in info.values()}
    assert keys == {("_id",): False, ("email",): True, ("name",): False, ("exchange", "symbol"): False}


@pytest.mark.deviation("mongodb", reason="nx-27017 reports index names of its own (idx_<collection>_<fields>) "
                                          "and no partialFilterExpression")
async def test_indexes_are_ours_and_follow_the_declaration(make_service) -> None:
    email, name = Index(("email",), unique=True), Index(("name",))
    first = await make_service(id="_id", indexes=[email, name])
    info = await first.collection.index_information()
    assert info[index_name(email)]["partialFilterExpression"] == {"email": {"$exists": True}}
    assert index_name(name) in info
    await raw(first).create_index([("other", 1)], name="by_hand")
    second = await make_service(id="_id", indexes=[email])  # same database and collection
    assert set(await second.collection.index_information()) == {"_id_", index_name(email), "by_hand"}


async def test_records_lacking_a_unique_field_do_not_collide(make_service) -> None:
    service = await make_service(id="_id", indexes=[Index(("email",), unique=True)])
    for _ in range(3):
        await service.create({"name": "no email"})
    assert len(await service.find()) == 3


@pytest.mark.deviation("mongodb", reason="nx-27017 unique indexes never index null (SQLite's UNIQUE)")
async def test_a_unique_index_holds_one_explicit_null(make_service) -> None:
    """MongoDB's partial unique indexes can skip missing fields but not nulls (see the module doc)."""
    service = await make_service(id="_id", indexes=[Index(("email",), unique=True)])
    await service.create({"email": None})
    with pytest.raises(Conflict):
        await service.create({"email": None})


@pytest.mark.deviation("mongodb", reason="nx-27017 fails such an index build without the duplicate key code (11000)")
async def test_a_unique_index_over_existing_duplicates_fails_setup(make_service) -> None:
    plain = await make_service(id="_id")
    await plain.create({"email": "same@example.com"})
    await plain.create({"email": "same@example.com"})
    with pytest.raises(Conflict):
        await make_service(id="_id", indexes=[Index(("email",), unique=True)])


# -- what reaches the server ---------------------------------------------------------------------


async def test_operations_are_single_server_commands(make_service) -> None:
    commands = Commands()
    service = await make_service(id="id", multi=True, paginate={"default": 10, "max": 50},
                                 client_options={"event_listeners": [commands]})
    commands.take()
    created = await service.create([{"name": f"n{i}", "group": i % 2, "rank": i} for i in range(3)])
    [(name, body)] = commands.take()
    assert (name, len(body["documents"])) == ("insert", 3)

    page = await service.find({"query": {"group": {"$in": [0, 1]}, "$select": ["name"],
                                         "$sort": {"group": 1, "rank": -1}, "$skip": 1, "$limit": 2}})
    assert page == {"total": 3, "limit": 2, "skip": 1,
                    "data": [{"id": created[0]["id"], "name": "n0"}, {"id": created[1]["id"], "name": "n1"}]}
    sent = dict(commands.take())
    assert set(sent) == {"find", "aggregate"}
    find = sent["find"]
    assert find["filter"] == {"group": {"$in": [0, 1]}} and find["projection"] == {"name": 1}
    assert list(find["sort"].items()) == [("group", 1), ("rank", -1), ("_id", 1)]
    assert (find["skip"], find["limit"]) == (1, 2)

    assert (await service.find({"query": {"$limit": 0}}))["total"] == 3
    assert [name for name, _ in commands.take()] == ["aggregate"]
    assert await service.find({"query": {"$limit": 0}, "paginate": False}) == []
    assert commands.take() == []

    await service.patch(created[0]["id"], {"name": "patched"}, {"query": {"$select": ["name"]}})
    [(name, body)] = commands.take()
    assert (name, body["update"], body["new"], body["fields"]) == \
        ("findAndModify", {"$set": {"name": "patched"}}, True, {"name": 1})
    await service.update(created[0]["id"], {"name": "replaced"})
    [(name, body)] = commands.take()
    assert (name, body["update"]) == ("findAndModify", {"name": "replaced"})
    await service.remove(created[0]["id"])
    [(name, body)] = commands.take()
    assert (name, body["remove"]) == ("findAndModify", True)
    await service.get(created[1]["id"])
    [(name, body)] = commands.take()
    assert (name, body["filter"]) == ("find", {"_id": ObjectId(created[1]["id"])})


async def test_a_client_given_is_used_and_left_open(adapter: str, tmp_path) -> None:
    url = nx_server.shared().url if adapter == "mongodb" else os.environ["MONGODB_URL"]
    client = AsyncMongoClient(url)
    database = f"crtest_client_{os.getpid()}_{time.monotonic_ns()}"
    try:
        service = MongoService(client=client, database=database, collection="things")
        await service.setup(None, "ignored")
        created = await service.create({"name": "x"})
        await service.teardown()
        assert (await client[database]["things"].find_one({}))["name"] == "x"
        assert created["_id"]
    finally:
        await client.drop_database(database)
        await client.close()


async def test_a_motor_client_works_too(adapter: str) -> None:
    motor = pytest.importorskip("motor.motor_asyncio")  # optional: not a dependency
    url = nx_server.shared().url if adapter == "mongodb" else os.environ["MONGODB_URL"]
    client = motor.AsyncIOMotorClient(url)
    database = f"crtest_motor_{os.getpid()}_{time.monotonic_ns()}"
    try:
        service = MongoService(client=client, database=database, multi=True, paginate={"default": 2},
                               indexes=[Index(("email",), unique=True)])
        await service.setup(None, "people")
        first = await service.create({"name": "a", "email": "a@example.com"})
        await service.create([{"name": "b"}, {"name": "c"}])
        assert await service.get(first["_id"]) == first
        page = await service.find({"query": {"$sort": {"name": -1}}})
        assert (page["total"], [r["name"] for r in page["data"]]) == (3, ["c", "b"])
        assert (await service.patch(None, {"x": 1}, {"query": {"name": {"$ne": "a"}}}))[0]["x"] == 1
        with pytest.raises(Conflict):
            await service.create({"email": "a@example.com"})
        assert len(await service.remove(None, {"query": {}})) == 3
        await service.teardown()
    finally:
        await client.drop_database(database)
        client.close()


# -- connection loss -----------------------------------------------------------------------------


@pytest.fixture
def own_server():
    server = nx_server.NxServer().start()
    yield server
    server.stop()


async def test_connection_loss_is_unavailable_and_recovers(own_server) -> None:
    service = MongoService(url=own_server.url, database="recovery", client_options={"serverSelectionTimeoutMS": 1000})
    await service.setup(None, "things")
    try:
        created = await service.create({"name": "kept"})
        own_server.stop_process()
        for call in (lambda: service.get(created["_id"]), lambda: service.create({"name": "lost"}),
                     lambda: service.find()):
            started = time.monotonic()
            with pytest.raises(Unavailable) as caught:
                await call()
            assert caught.value.code == 503
            assert time.monotonic() - started < 10
        own_server.start()  # same port, same data directory
        assert await service.get(created["_id"]) == created
        assert (await service.create({"name": "after"}))["name"] == "after"
        assert sorted(r["name"] for r in await service.find()) == ["after", "kept"]
    finally:
        await service.teardown()


async def test_a_server_down_at_start_up_is_unavailable_then_recovers() -> None:
    server = nx_server.NxServer()  # not started yet
    service = MongoService(url=server.url, database="late", client_options={"serverSelectionTimeoutMS": 300},
                           indexes=[Index(("email",), unique=True)])
    try:
        with pytest.raises(Unavailable):
            await service.setup(None, "users")
        assert service.collection is None
        server.start()
        created = await service.create({"email": "a@example.com"})  # connects and creates the indexes
        with pytest.raises(Conflict):
            await service.create({"email": "a@example.com"})
        assert await service.get(created["_id"]) == created
    finally:
        await service.teardown()
        server.stop()
    assert not clients._shared


# -- one client per URL --------------------------------------------------------------------------


async def test_services_on_one_url_share_a_client_closed_by_the_last(adapter: str, tmp_path) -> None:
    url = nx_server.shared().url if adapter == "mongodb" else os.environ["MONGODB_URL"]
    database = f"crtest_share_{os.getpid()}_{time.monotonic_ns()}"
    first = MongoService(url=url, database=database)
    second = MongoService(url=url, database=database)
    await first.setup(None, "a")
    await second.setup(None, "b")
    try:
        assert first.client is second.client
        await first.teardown()
        assert (await second.create({"name": "x"}))["name"] == "x"
    finally:
        await second.client.drop_database(database)
        await second.teardown()


# -- storage = "mongodb" -------------------------------------------------------------------------


async def test_storage_mongodb_moves_the_platform_to_mongodb(adapter: str, serve) -> None:
    from cryptorobot.config import load_config
    from cryptorobot.platform import create_app
    from cryptorobot.storage import persisted

    url = nx_server.shared().url if adapter == "mongodb" else os.environ["MONGODB_URL"]
    database = f"crtest_platform_{os.getpid()}_{time.monotonic_ns()}"
    settings = {**load_config("test", environ={}), "storage": "mongodb", "mongodb": {"url": url, "database": database}}
    app = create_app(settings)
    probe = persisted(app, id="_id")
    assert isinstance(probe, MongoService)
    assert (probe.options["url"], probe.options["database"]) == (url, database)
    assert isinstance(app.service("users").raw, MongoService)

    http = await serve(app)
    try:
        response = await http.post("/users", json={"email": "ann@example.com", "password": "correct horse battery"})
        assert response.status == 201
        user = await response.json()
        again = await http.post("/users", json={"email": "ANN@example.com", "password": "correct horse battery"})
        assert again.status == 409
        login = await http.post("/authentication", json={"strategy": "local", "email": "ann@example.com",
                                                         "password": "correct horse battery"})
        assert login.status == 201
        token = (await login.json())["accessToken"]
        own = await http.get(f"/users/{user['_id']}", headers={"Authorization": f"Bearer {token}"})
        assert own.status == 200 and (await own.json())["email"] == "ann@example.com"
        stored = await AsyncMongoClient(url)[database]["users"].find_one({"email": "ann@example.com"})
        assert stored["_id"] == ObjectId(user["_id"]) and stored["password"].startswith("$2b$")
    finally:
        cleanup = AsyncMongoClient(url)
        await cleanup.drop_database(database)
        await cleanup.close()


def test_storage_mongodb_needs_a_url() -> None:
    from cryptorobot.app import App
    from cryptorobot.storage import persisted

    with pytest.raises(ValueError):
        persisted(App({"storage": "mongodb", "mongodb": {"url": ""}}))


# -- the filter translation (no server) ----------------------------------------------------------


def test_dict_equality_ignores_key_order() -> None:
    built = FilterBuilder("id").build({"meta": {"x": 1, "y": {"a": 1, "b": 2}}})
    assert built == {"meta": {"$in": [
        {"x": 1, "y": {"a": 1, "b": 2}}, {"x": 1, "y": {"b": 2, "a": 1}},
        {"y": {"a": 1, "b": 2}, "x": 1}, {"y": {"b": 2, "a": 1}, "x": 1}]}}
    assert FilterBuilder("id").build({"meta": {"$ne": {"x": 1, "y": 2}}}) == {
        "meta": {"$nin": [{"x": 1, "y": 2}, {"y": 2, "x": 1}]}}
    with pytest.raises(BadRequest):
        FilterBuilder("id").build({"meta": {str(n): n for n in range(7)}})


def test_filters_match_the_memory_adapter_where_mongodb_differs() -> None:
    build = FilterBuilder("id").build
    assert build({"v": {"$gt": None}}) == {"v": NEVER}
    assert build({"v": {"$lt": True, "$ne": 3}}) == {"v": NEVER}
    assert build({"v": {"$gte": [1]}}) == {"v": NEVER}
    assert build({"$or": []}) == {"_id": NEVER}
    assert build({"$and": []}) == {}
    assert build({"id": HEX, "_id": "x"}) == {"$and": [{"_id": ObjectId(HEX)}, {"_id": "x"}]}
    assert build({"id": {"$in": [HEX, "plain"], "$gt": HEX}}) == {"_id": {"$in": [ObjectId(HEX), "plain"], "$gt": ObjectId(HEX)}}
    assert build({"n": {"$nin": [1], "$ne": 2}}) == {"n": {"$nin": [1], "$ne": 2}}


def test_id_conditions() -> None:
    assert id_condition(HEX) == ObjectId(HEX)
    assert id_condition("7") == {"$in": ["7", 7]}
    assert id_condition(7) == {"$in": [7, "7"]}
    assert id_condition("07") == "07"
    assert id_condition(str(2**70)) == str(2**70)
    for bad in ({"$gt": ""}, ["a"], object()):
        with pytest.raises(BadRequest):
            id_condition(bad)
