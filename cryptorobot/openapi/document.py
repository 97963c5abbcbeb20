"""The OpenAPI 3.0 document of an App, generated from its service registry, never by hand.

`openapi_spec(app)` walks `app.services`: each exposed method becomes an operation (REST's
verb mapping, custom methods as `POST` with the `X-Service-Method` header), route
`:placeholders` become path parameters, request bodies come from the service's data
schemas, query parameters from its query schema (one parameter per field and allowed
operator, written the way the REST transport reads them: `age[$gt]`, `type[$in][]`,
`$sort[createdAt]`, `$select[]`), responses from its result schema (a page when the
adapter paginates) and errors in Feathers' shape. apispec's marshmallow plugin converts
the schemas.

Machine error codes: when the app describes the codes its errors carry in `data.code`
(`app.error_codes`, code -> `ErrorCode`), the document lists them all (the `ErrorCode`
schema, its description a table) and each operation's error responses name the codes that
operation can answer: the codes of scope "any", plus those a service lists in its docs
(`{"docs": {"codes": ["INVALID_SYMBOL", ...]}}`, or per method `{"codes": {"create": [...],
"all": [...]}}`); a service that lists none may answer any code of scope "service" (under
the statuses it already documents). The security schemes are the ones the app's authentication declared
(`app.security_schemes`, filled by `cryptorobot.auth`); any one of them, or none, is
accepted unless a service's `docs` say otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema
from marshmallow import fields as mfields

from ..schemas import QueryRules, data_schema_for
from ..schemas.query import INT_MAX, INT_MIN, LIST_OPERATORS, PAGE_MAX
from ..service import STANDARD_METHODS

if TYPE_CHECKING:
    from ..app import App
    from ..service import ServiceProxy

__all__ = ["ERROR_RESPONSES", "JSON", "OPENAPI_VERSION", "ErrorCode", "openapi_settings", "openapi_spec"]

OPENAPI_VERSION = "3.0.3"
JSON = "application/json"

ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Invalid data or query (`errors` holds per-field messages)."),
    401: ("NotAuthenticated", "Missing, invalid or expired credentials."),
    403: ("Forbidden", "Authenticated, but not allowed to do this."),
    404: ("NotFound", "No such record, service or path."),
    405: ("MethodNotAllowed", "Method not exposed, or several records not allowed."),
    408: ("Timeout", "The request body did not arrive in time."),
    409: ("Conflict", "A unique value is already taken."),
    413: ("PayloadTooLarge", "Request body too large."),
    422: ("Unprocessable", "Well-formed data the service can not act on."),
    429: ("TooManyRequests", "Rate limit exceeded."),
    500: ("GeneralError", "Unexpected server error (no details are revealed)."),
    502: ("BadGateway", "A service this one relies on answered with an error."),
    503: ("Unavailable", "A service this one relies on can not be reached right now; try again later."),
}
_READ_ERRORS = (400, 401, 403, 404, 405, 429, 500)
_WRITE_ERRORS = (400, 401, 403, 404, 405, 408, 409, 413, 422, 429, 500)
SCOPES = ("any", "service", "socket")


@dataclass(frozen=True)
class ErrorCode:
    """A machine code an app's errors may carry in `data.code` (`App.error_codes`).

    `scope`: "any" (every operation may answer it: the app's generic refusals), "service"
    (operations of services that list it in `docs["codes"]`, or list nothing), "socket"
    (never a REST answer)."""

    status: int
    description: str
    scope: str = "service"

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"ErrorCode scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A Feathers error, as the official clients rebuild it.",
    "required": ["name", "message", "code", "className"],
    "properties": {
        "name": {"type": "string", "example": "BadRequest"},
        "message": {"type": "string", "example": "validation failed"},
        "code": {"type": "integer", "example": 400},
        "className": {"type": "string", "example": "bad-request"},
        "data": {"description": "Extra details, when the error has any."},
        "errors": {"description": "Per-field messages, e.g. {\"email\": [\"Not a valid email address.\"]}."},
    },
}
_OPERATOR_WORDS = {"$ne": "not equal to", "$lt": "less than", "$lte": "at most", "$gt": "greater than",
                   "$gte": "at least"}
_VERBS = {"find": "get", "get": "get", "create": "post", "update": "put", "patch": "patch", "remove": "delete"}
_SUMMARIES = {
    "call": "Call a custom method of {name}", "find": "Find {name} records", "get": "Get one {name} record",
    "create": "Create {name} record(s)",
    "update": "Replace one {name} record", "patch": "Change one {name} record", "remove": "Remove one {name} record",
    "patchMany": "Change the {name} records matching the query",
    "removeMany": "Remove the {name} records matching the query",
}
_ORDER = ("get", "post", "put", "patch", "delete")


def _error_ref(status: int) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}


def _declared_codes(proxy: ServiceProxy, methods: Iterable[str]) -> set[str] | None:
    """The codes `proxy` lists for `methods` in `docs["codes"]`; None when it lists none."""
    listed = proxy.docs.get("codes")
    if listed is None:
        return None
    if isinstance(listed, Mapping):
        return {code for key in ("all", *methods) for code in listed.get(key, ())}
    return set(listed)


def _package_version() -> str:
    try:
        return version("cryptorobot")
    except PackageNotFoundError:
        return "0.0.0"


def openapi_settings(app: App) -> dict[str, Any]:
    """The `openapi` setting as a dict with `enabled` (`true`/absent: on, `false`: off)."""
    raw = app.get("openapi")
    if raw is None or raw is True:
        return {"enabled": True}
    if raw is False:
        return {"enabled": False}
    settings = dict(raw)
    settings.setdefault("enabled", True)
    return settings


def _pascal(path: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", path)
    return "".join(word[:1].upper() + word[1:] for word in words if word) or "Root"


def _multi(proxy: ServiceProxy, method: str) -> bool:
    allows = getattr(proxy.raw, "allows_multi", None)
    if not callable(allows):
        return False
    try:
        return bool(allows(method))
    except Exception:  # a custom service's own notion of multi: document the single form
        return False


def _paginated(proxy: ServiceProxy) -> bool | None:
    """True/False for adapters (their `paginate` option), None when unknown."""
    get_options = getattr(proxy.raw, "get_options", None)
    if not callable(get_options):
        return None
    paginate = get_options({}).get("paginate")
    return paginate is True or isinstance(paginate, Mapping)


class _Builder:
    def __init__(self, app: App, settings: Mapping[str, Any]) -> None:
        self.app = app
        self.plugin = MarshmallowPlugin()
        info: dict[str, Any] = {}
        if settings.get("description"):
            info["description"] = settings["description"]
        self.spec = APISpec(
            title=str(settings.get("title") or "cryptorobot API"),
            version=str(settings.get("version") or _package_version()),
            openapi_version=OPENAPI_VERSION,
            plugins=[self.plugin],
            info=info,
        )
        self.paths: dict[str, dict[str, Any]] = {}
        self.tags: list[dict[str, Any]] = []
        self.operation_ids: set[str] = set()
        self.names: set[str] = set()

    @property
    def converter(self) -> Any:
        return self.plugin.converter

    # -- components --------------------------------------------------------------------------

    def base_components(self) -> None:
        components = self.spec.components
        codes: Mapping[str, ErrorCode] = self.app.error_codes
        error_schema = _ERROR_SCHEMA
        if codes:
            table = "\n".join(f"| `{code}` | {entry.status} | {entry.description} |" for code, entry in codes.items())
            components.schema("ErrorCode", component={
                "type": "string", "enum": list(codes),
                "description": f"The machine code in `data.code` of every error.\n\n| code | status | meaning |\n"
                               f"| --- | --- | --- |\n{table}"})
            error_schema = {**_ERROR_SCHEMA, "required": [*_ERROR_SCHEMA["required"], "data"], "properties": {
                **_ERROR_SCHEMA["properties"],
                "data": {"type": "object", "required": ["code"], "description": "`code`, and details beside it.",
                         "properties": {"code": {"$ref": "#/components/schemas/ErrorCode"}}}}}
        components.schema("Error", component=error_schema)
        for name, text in ERROR_RESPONSES.values():
            components.response(name, component={
                "description": text, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}})
        for name, scheme in self.app.security_schemes.items():
            components.security_scheme(name, dict(scheme))

    def schema_component(self, name: str, schema: Schema, *, role: str) -> dict[str, Any]:
        """Register `schema` as component `name` and return a `$ref` to it.

        role "request": read-only fields left out; "patch": also nothing required;
        "result": write-only fields left out and nothing required (`$select` may leave
        any field out).
        """
        json_schema = self.converter.schema2jsonschema(schema)
        properties: dict[str, Any] = json_schema.get("properties", {})
        drop = "readOnly" if role in ("request", "patch") else "writeOnly"
        for key in [key for key, prop in properties.items() if isinstance(prop, Mapping) and prop.get(drop)]:
            del properties[key]
            if key in json_schema.get("required", ()):
                json_schema["required"].remove(key)
        if role in ("patch", "result") or not json_schema.get("required"):
            json_schema.pop("required", None)
        if name not in self.spec.components.schemas:
            self.spec.components.schema(name, component=json_schema)
        return {"$ref": f"#/components/schemas/{name}"}

    def field_schema(self, field: mfields.Field) -> dict[str, Any]:
        prop = dict(self.converter.field2property(field))
        for key in ("readOnly", "writeOnly", "default"):
            prop.pop(key, None)
        if isinstance(field, mfields.Integer):
            prop.setdefault("minimum", INT_MIN)
            prop.setdefault("maximum", INT_MAX)
        return prop

    # -- one service ---------------------------------------------------------------------------

    def service(self, proxy: ServiceProxy) -> None:
        tag = proxy.path
        name = base = _pascal(proxy.path)
        counter = 2
        while name in self.names:  # "a-b" and "a_b" both make "AB"
            name, counter = f"{base}{counter}", counter + 1
        self.names.add(name)
        tag_entry: dict[str, Any] = {"name": tag}
        if proxy.docs.get("description"):
            tag_entry["description"] = str(proxy.docs["description"])
        self.tags.append(tag_entry)
        security = proxy.docs.get("security")

        placeholders = [segment[1:] for segment in proxy.path.split("/") if segment.startswith(":")]
        collection = "/" + "/".join("{" + s[1:] + "}" if s.startswith(":") else s for s in proxy.path.split("/"))
        id_name = "__id" if "id" in placeholders else "id"
        item = f"{collection}/{{{id_name}}}"
        path_parameters = [{"name": param, "in": "path", "required": True, "schema": {"type": "string"}}
                           for param in placeholders]
        id_parameter = {"name": id_name, "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "The record's id."}

        result = self.result_schema(proxy, name)
        query = self.query_parameters(proxy)
        find_parameters = [*query["conditions"], *query["sort"], *query["select"], *query["page"]]

        collection_ops: dict[str, Any] = {}
        item_ops: dict[str, Any] = {}
        for method in proxy.methods:
            if method not in STANDARD_METHODS or method == "create":
                continue  # create and the custom methods share POST (below)
            errors = _WRITE_ERRORS if method in ("update", "patch") else _READ_ERRORS
            failures = self.error_responses(proxy, (method,), errors)
            if method == "find":
                collection_ops["get"] = self.operation(
                    method, name, tag, security, parameters=find_parameters,
                    responses={**self.response(200, "The matching records.", self.find_result(proxy, result)),
                               **failures})
                continue
            body = self.body(proxy, method, name, many=False) if method in ("update", "patch") else None
            item_ops[_VERBS[method]] = self.operation(
                method, name, tag, security, parameters=[id_parameter, *query["select"]], body=body,
                responses={**self.response(200, "The record.", result), **failures})
            if method in ("patch", "remove") and _multi(proxy, method):
                collection_ops[_VERBS[method]] = self.operation(
                    method + "Many", name, tag, security, parameters=[*query["conditions"], *query["select"]],
                    body=body, responses={**self.response(200, "The changed records.",
                                                          {"type": "array", "items": result}), **failures})
        post = self.post_operation(proxy, name, tag, result, query["select"], security)
        if post is not None:
            collection_ops["post"] = post
        for location, ops in ((collection, collection_ops), (item, item_ops)):
            if ops:
                entry: dict[str, Any] = {verb: ops[verb] for verb in _ORDER if verb in ops}
                if path_parameters:
                    entry["parameters"] = path_parameters
                self.paths[location] = entry

    def operation(self, method: str, name: str, tag: str, security: Any, *, parameters: list[dict[str, Any]],
                  responses: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
        op: dict[str, Any] = {"tags": [tag], "summary": _SUMMARIES[method].format(name=tag),
                              "operationId": self.operation_id(method, name), "parameters": parameters}
        if body is not None:
            op["requestBody"] = body
        op["responses"] = responses
        if security is not None:
            op["security"] = security
        return op

    def operation_id(self, method: str, name: str) -> str:
        candidate, counter = f"{method}{name}", 2
        while candidate in self.operation_ids:
            candidate, counter = f"{method}{name}{counter}", counter + 1
        self.operation_ids.add(candidate)
        return candidate

    def result_schema(self, proxy: ServiceProxy, name: str) -> dict[str, Any]:
        resolver = proxy.schemas.get("result")
        if isinstance(resolver, Schema):
            return self.schema_component(f"{name}Result", resolver, role="result")
        if resolver is not None or _paginated(proxy) is not None:
            return {"type": "object"}  # a record, shape not described
        return {}  # not an adapter, no result schema: anything

    def find_result(self, proxy: ServiceProxy, result: dict[str, Any]) -> dict[str, Any]:
        paginated = _paginated(proxy)
        if paginated is None and not proxy.schemas.get("result"):
            return {}
        records = {"type": "array", "items": result}
        if not paginated:
            return records
        return {
            "type": "object",
            "required": ["total", "skip", "data"],
            "properties": {
                "total": {"type": "integer", "minimum": 0, "description": "Records matching the query."},
                "limit": {"type": "integer", "minimum": 0, "description": "Page size (absent: no limit)."},
                "skip": {"type": "integer", "minimum": 0},
                "data": records,
            },
        }

    def body(self, proxy: ServiceProxy, method: str, name: str, *, many: bool) -> dict[str, Any]:
        schema = data_schema_for(proxy.schemas, method)
        if schema is None:
            content: dict[str, Any] = {"type": "object"} if method in STANDARD_METHODS else {}
        else:
            suffix = method[:1].upper() + method[1:]
            role = "patch" if method == "patch" else "request"
            content = self.schema_component(f"{name}{suffix}" + ("" if method in STANDARD_METHODS else "Data"),
                                            schema, role=role)
        if many:
            content = {"oneOf": [content, {"type": "array", "items": content}]}
        return {"required": method in ("create", "update", "patch"), "content": {JSON: {"schema": content}}}

    def post_operation(self, proxy: ServiceProxy, name: str, tag: str, result: dict[str, Any],
                       select: list[dict[str, Any]], security: Any) -> dict[str, Any] | None:
        """`create` and the custom methods: one POST, told apart by `X-Service-Method`."""
        custom = [method for method in proxy.methods if method not in STANDARD_METHODS]
        has_create = "create" in proxy.methods
        if not custom and not has_create:
            return None
        bodies: list[dict[str, Any]] = []
        responses: dict[str, Any] = {}
        parameters = list(select)
        summary = _SUMMARIES["create"].format(name=tag) if has_create else f"Call a custom method of {tag}"
        if has_create:
            many = _multi(proxy, "create")
            bodies.append(self.body(proxy, "create", name, many=many)["content"][JSON]["schema"])
            created = {"oneOf": [result, {"type": "array", "items": result}]} if many and result else result
            responses = self.response(201, "The created record(s).", created)
        if custom:
            summary += (" or call " if has_create else ": ") + ", ".join(custom)
            parameters.append({
                "name": "X-Service-Method", "in": "header", "required": not has_create,
                "schema": {"type": "string", "enum": custom},
                "description": "Call this custom method instead of `create`.",
            })
            bodies += [self.body(proxy, method, name, many=False)["content"][JSON]["schema"] for method in custom]
            responses.update(self.response(200, "The custom method's result.", {}))
        posted = (*(("create",) if has_create else ()), *custom)
        responses.update(self.error_responses(proxy, posted, _WRITE_ERRORS))
        op = self.operation("create" if has_create else "call", name, tag, security, parameters=parameters,
                            responses=responses, body={"required": has_create and not custom, "content": {
                                JSON: {"schema": bodies[0] if len(bodies) == 1 else {"anyOf": bodies}}}})
        op["summary"] = summary
        return op

    @staticmethod
    def response(status: int, text: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {str(status): {"description": text, "content": {JSON: {"schema": schema}}}}

    def error_responses(self, proxy: ServiceProxy, methods: tuple[str, ...], statuses: tuple[int, ...]) -> dict[str, Any]:
        """The error responses of an operation running `methods` of `proxy`: references to
        the shared ones, or, with `app.error_codes`, each naming the codes it can carry
        (see the module docstring)."""
        codes: Mapping[str, ErrorCode] = self.app.error_codes
        if not codes:
            return {str(status): _error_ref(status) for status in statuses}
        declared = _declared_codes(proxy, methods)
        if declared is not None:
            unknown = declared - set(codes)
            if unknown:
                raise ValueError(f"service '{proxy.path}' lists unknown error codes: {', '.join(sorted(unknown))}")
            statuses = (*statuses, *sorted({codes[code].status for code in declared} - set(statuses)))
        responses: dict[str, Any] = {}
        for status in sorted(statuses):
            answered = [code for code, entry in codes.items() if entry.status == status and (
                entry.scope == "any" or (entry.scope == "service" and (declared is None or code in declared)))]
            text = ERROR_RESPONSES.get(status, ("Error", "An error."))[1]
            if not answered:
                responses[str(status)] = _error_ref(status)
                continue
            listing = ", ".join(f"`{code}`" for code in answered)
            responses[str(status)] = {"description": f"{text} `data.code`: {listing}.", "content": {JSON: {"schema": {
                "allOf": [{"$ref": "#/components/schemas/Error"}, {"type": "object", "properties": {"data": {
                    "type": "object", "properties": {"code": {"type": "string", "enum": answered}}}}}]}}}}
        return responses

    def query_parameters(self, proxy: ServiceProxy) -> dict[str, list[dict[str, Any]]]:
        """Query parameters as the REST transport reads them (qs syntax), by group:
        `conditions` (fields, operators, custom filters), `sort`, `select`, `page`."""
        page = [
            {"name": "$limit", "in": "query", "description": "Most records to return.",
             "schema": {"type": "integer", "minimum": 0, "maximum": PAGE_MAX}},
            {"name": "$skip", "in": "query", "description": "Records to skip.",
             "schema": {"type": "integer", "minimum": 0, "maximum": PAGE_MAX}},
        ]
        groups: dict[str, list[dict[str, Any]]] = {"conditions": [], "sort": [], "select": [], "page": []}
        schema = proxy.schemas.get("query")
        if schema is None:
            groups["page"] = page if _paginated(proxy) is not None else []
            return groups
        rules = QueryRules.of(schema).public
        conditions = groups["conditions"]
        for spec in rules.fields.values():
            if not spec.filterable:
                continue
            field = spec.field.inner if isinstance(spec.field, mfields.List) else spec.field
            value = self.field_schema(field)
            conditions.append({"name": spec.name, "in": "query", "schema": value,
                               "description": f"Records whose `{spec.name}` equals this."})
            for operator in sorted(spec.operators):
                if operator in LIST_OPERATORS:
                    conditions.append({
                        "name": f"{spec.name}[{operator}][]", "in": "query", "style": "form", "explode": True,
                        "schema": {"type": "array", "items": value},
                        "description": f"Records whose `{spec.name}` is {'one' if operator == '$in' else 'none'}"
                                       " of these values."})
                else:
                    words = _OPERATOR_WORDS.get(operator, f"`{operator}`")
                    conditions.append({"name": f"{spec.name}[{operator}]", "in": "query", "schema": value,
                                       "description": f"Records whose `{spec.name}` is {words} this value."})
        for name, field in rules.filters.items():
            conditions.append({"name": name, "in": "query", "schema": self.field_schema(field)})
        groups["sort"] = [{"name": f"$sort[{name}]", "in": "query", "description": f"Sort by `{name}`.",
                           "schema": {"type": "integer", "enum": [1, -1]}} for name in rules.sortable]
        if rules.selectable:
            groups["select"] = [{
                "name": "$select[]", "in": "query", "style": "form", "explode": True,
                "description": "Only these fields (and the id).",
                "schema": {"type": "array", "items": {"type": "string", "enum": rules.selectable}}}]
        groups["page"] = page
        return groups

    def build(self) -> dict[str, Any]:
        self.base_components()
        for proxy in self.app.services.values():
            self.service(proxy)
        for location, operations in self.paths.items():
            operations = dict(operations)
            parameters = operations.pop("parameters", None)
            self.spec.path(path=location, operations=operations, parameters=parameters)
        spec = self.spec.to_dict()
        spec["tags"] = self.tags
        if self.app.security_schemes:  # any declared scheme, or none (public services)
            spec["security"] = [*({name: []} for name in self.app.security_schemes), {}]
        return spec


def openapi_spec(app: App, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.0 document for every service registered on `app`, as a dict."""
    return _Builder(app, openapi_settings(app) if settings is None else settings).build()
