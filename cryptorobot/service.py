"""Wrapping a plain service object with hooks, an exposed-method table and events.

`app.service(path)` returns a `ServiceProxy`. Calling one of its methods runs the whole
hook chain (app hooks, then service hooks) with no provider, exactly what a remote call
runs with `provider` set; attributes that are not hookable methods pass through to the
wrapped object.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .admission import admit
from .errors import MethodNotAllowed
from .hooks import NOT_SET, HookContext, HookRegistry, Step, compose
from .listeners import Listeners

if TYPE_CHECKING:
    from .app import App

__all__ = ["METHOD_EVENTS", "STANDARD_EVENTS", "STANDARD_METHODS", "ServiceProxy"]

STANDARD_METHODS = ("find", "get", "create", "update", "patch", "remove")
METHOD_EVENTS = {"create": "created", "update": "updated", "patch": "patched", "remove": "removed"}
STANDARD_EVENTS = tuple(METHOD_EVENTS.values())

# Positional arguments of each method before `params`; custom methods take (data, params).
_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "find": (),
    "get": ("id",),
    "create": ("data",),
    "update": ("id", "data"),
    "patch": ("id", "data"),
    "remove": ("id",),
}
CUSTOM_ARGUMENTS = ("data",)
_RESERVED = frozenset({"setup", "teardown", "hooks", "publish", "on", "emit", "off", "once"})


def argument_names(method: str) -> tuple[str, ...]:
    """Names of a method's arguments before `params` (the socket protocol's positions)."""
    return _ARGUMENTS.get(method, CUSTOM_ARGUMENTS)


async def _call_method(context: HookContext) -> None:
    """The innermost step: run the service method unless a hook already set a result."""
    if context.result is not NOT_SET:
        return
    target = getattr(context.service.raw, context.method)
    args = [getattr(context, name) for name in argument_names(context.method)]
    outcome = target(*args, context.params)
    context.result = await outcome if inspect.isawaitable(outcome) else outcome


class ServiceProxy:
    """A registered service: hooks, exposed methods, publishers and event listeners."""

    def __init__(self, app: App, path: str, service: Any, options: Mapping[str, Any] | None = None) -> None:
        options = dict(options or {})
        self.app = app
        self.path = path
        self.raw = service
        implemented = tuple(name for name in STANDARD_METHODS if callable(getattr(service, name, None)))
        self.methods: tuple[str, ...] = tuple(options.get("methods") or implemented)
        for name in self.methods:
            if name in _RESERVED or name.startswith("_"):
                raise ValueError(f"'{name}' can not be a service method")
            if not callable(getattr(service, name, None)):
                raise ValueError(f"service '{path}' lists method '{name}' but does not implement it")
        self.callable_methods = frozenset((*implemented, *self.methods))
        custom_events = list(options.get("events") or getattr(service, "events", None) or ())
        self.events: tuple[str, ...] = tuple(custom_events)
        self.publishable_events: tuple[str, ...] = tuple(
            options.get("service_events") or (*STANDARD_EVENTS, *custom_events))
        self.route_params: dict[str, Any] = dict(options.get("route_params") or {})
        self.array_methods: frozenset[str] = frozenset(options.get("arrays") or ())
        """Methods whose data may be a list (`arrays` option; adapters' multi create is implied)."""
        self.address_budget: str | None = options.get("address_budget")
        """The named budget that calls identifying no user draw on per address (`address_budget`
        option; None: `anonymous`; see `cryptorobot.ratelimit`)."""
        self.hook_registry = HookRegistry()
        self.publishers: dict[str | None, Callable[..., Any]] = {}
        self.listeners = Listeners(self._spawn_listener)
        self._chains: dict[str, tuple[int, int, Step, bool]] = {}
        # `schemas` attaches validation/resolver hooks (cryptorobot.schemas) and, with
        # `docs`, feeds /openapi.json; imported here so services without schemas need none.
        self.docs: dict[str, Any] = dict(options.get("docs") or {})
        self.schemas: dict[str, Any] = {}
        if options.get("schemas"):
            from .schemas import normalize_schemas, schema_hooks

            self.schemas = normalize_schemas(options["schemas"], self.methods)
            self.hooks(schema_hooks(self.schemas, self.methods))

    # -- calling -------------------------------------------------------------------------

    async def run(self, method: str, args: Iterable[Any], params: dict[str, Any] | None = None) -> HookContext:
        """Run `method` through the hook chain and return the finished context.

        Transports use this (they need `dispatch` and `http`); Python callers use the
        method attributes, which return the result.
        """
        if method not in self.callable_methods:
            raise MethodNotAllowed(f"Method '{method}' not allowed on service '{self.path}'")
        context = HookContext(self.app, self, self.path, method, params)
        for name, value in zip(argument_names(method), args, strict=False):
            setattr(context, name, value)
        chain, identifies = self._route(method)
        if context.params.get("provider") is not None:
            # Clients' calls: charged to a budget (unless their hooks identify the caller,
            # who is charged then), with a bounded query and data of a known shape.
            limits = self.app.rate_limits
            if limits is not None and not identifies:
                await limits.charge_address(self, context.params)
            admit(self, method, context.data, context.params)
        await chain(context)
        return context

    def identifies_caller(self, method: str) -> bool:
        """Whether `method`'s hooks (the app's or this service's) include one marked by
        `hooks.identifies_caller` (e.g. `authenticate`)."""
        return self._route(method)[1]

    def _route(self, method: str) -> tuple[Step, bool]:
        """`method`'s composed hook chain and whether it identifies the caller, cached until hooks change."""
        versions = (self.app.hook_registry.version, self.hook_registry.version)
        cached = self._chains.get(method)
        if cached is not None and cached[:2] == versions:
            return cached[2], cached[3]
        steps = [*self.app.hook_steps(method), *self.hook_registry.steps(method)]
        chain = compose(steps, _call_method)
        identifies = self.app.hook_registry.identifies_caller(method) or self.hook_registry.identifies_caller(method)
        self._chains[method] = (*versions, chain, identifies)
        return chain, identifies

    async def _call(self, method: str, *args: Any) -> Any:
        *arguments, params = args
        context = await self.run(method, arguments, {} if params is None else dict(params))
        return context.result

    async def find(self, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("find", params)

    async def get(self, id: Any, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("get", id, params)

    async def create(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("create", data, params)

    async def update(self, id: Any, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("update", id, data, params)

    async def patch(self, id: Any, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("patch", id, data, params)

    async def remove(self, id: Any, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("remove", id, params)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not defined on the proxy: custom methods and the wrapped
        # service's own attributes (options, id, ...).
        if name in self.__dict__.get("methods", ()) and name not in STANDARD_METHODS:
            async def custom(data: Any = None, params: Mapping[str, Any] | None = None) -> Any:
                return await self._call(name, data, params)

            custom.__name__ = name
            return custom
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.__dict__["raw"], name)

    # -- hooks, events, publishing ---------------------------------------------------------

    def hooks(self, spec: Any) -> ServiceProxy:
        """Register service-level hooks (any Feathers format); returns self for chaining."""
        self.hook_registry.add(spec)
        return self

    def publish(self, event: str | Callable[..., Any] | None, publisher: Callable[..., Any] | None = None) -> ServiceProxy:
        """Choose the channels that receive this service's events (`event` None: all events)."""
        if publisher is None and callable(event):
            event, publisher = None, event
        if callable(event) or publisher is None:
            raise TypeError("publish() needs a publisher function")
        if event is not None and event not in self.publishable_events:
            raise ValueError(f"'{event}' is not a valid service event")
        self.publishers[event] = publisher
        return self

    def on(self, event: str, listener: Callable[..., Any]) -> ServiceProxy:
        """Listen to this service's events in-process: `listener(data, context)`."""
        self.listeners.add(event, listener)
        return self

    def off(self, event: str, listener: Callable[..., Any]) -> ServiceProxy:
        self.listeners.remove(event, listener)
        return self

    def emit(self, event: str, data: Any, context: HookContext | None = None) -> None:
        """Emit a service event: local listeners now (coroutine listeners as supervised
        background work), clients through the channels."""
        self.listeners.emit(event, data, context)
        if event in self.publishable_events:
            self.app.events.publish(self, event, data, context)

    def _spawn_listener(self, work: Awaitable[Any], event: str) -> None:
        self.app.supervisor.spawn(work, name=f"listener of '{self.path} {event}'")

    def __repr__(self) -> str:
        return f"<ServiceProxy {self.path!r} methods={list(self.methods)}>"
