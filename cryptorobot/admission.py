"""What every external call must satisfy before any hook runs.

`ServiceProxy.run` calls `admit` for calls with a `provider` (REST, Socket.IO, any future
transport), so every service registered now or later gets the same checks without doing
anything:

* the query's cost and the data's nesting are bounded (`cryptorobot.query_limits`);
* data has a shape the method can take: `create`, `update` and `patch` get an object, and
  an array only where the service accepts arrays. Hooks and services may then rely on
  `context.data` being a dict (or a list, where declared): `POST /api-keys` with `[]`
  answers 400, never a 500 from a hook indexing a list.

A method accepts arrays when it is listed in the `arrays` option of `app.use` (`{"arrays":
["create", "import"]}`), or, for `create`, when the service is an adapter whose `multi`
option allows it (`allows_multi("create", params)`). Internal calls (no provider) are not
checked here; the adapters keep their own Feathers rules for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import BadRequest
from .query_limits import check_data_depth, check_query_cost

if TYPE_CHECKING:
    from .service import ServiceProxy

__all__ = ["OBJECT_METHODS", "accepts_arrays", "admit"]

OBJECT_METHODS = frozenset({"create", "update", "patch"})
"""Standard methods whose data must be an object (or, where accepted, an array)."""


def accepts_arrays(proxy: ServiceProxy, method: str, params: Mapping[str, Any]) -> bool:
    """Whether `method` of `proxy` takes a list as its data (see the module docstring)."""
    if method in proxy.array_methods:
        return True
    if method != "create":
        return False
    allows_multi = getattr(proxy.raw, "allows_multi", None)
    return callable(allows_multi) and bool(allows_multi("create", params))


def admit(proxy: ServiceProxy, method: str, data: Any, params: Mapping[str, Any]) -> None:
    """Raise `BadRequest` when an external call's query or `data` is refused (`data` is
    whatever the method got; methods without data pass `NOT_SET`)."""
    query = params.get("query")
    if query:
        check_query_cost(query, proxy.app.query_limits)
    if isinstance(data, (Mapping, list)):
        check_data_depth(data, proxy.app.data_limits)
    if isinstance(data, list):
        if not accepts_arrays(proxy, method, params):
            raise BadRequest(f"Service '{proxy.path}' does not accept an array for '{method}'")
    elif method in OBJECT_METHODS and not isinstance(data, Mapping):
        raise BadRequest("Data must be an object")
