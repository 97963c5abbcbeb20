"""The application: service registry, app-level hooks, app events, channels and publishing."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .channels import ChannelRegistry, CombinedChannel, Connection, NamedChannel
from .errors import NotFound
from .events import EventPublisher
from .hooks import HOOK_KINDS, AroundHook, HookContext, HookRegistry, Next, compose
from .routing import Router, strip_path
from .service import METHOD_EVENTS, ServiceProxy

__all__ = ["App"]

log = logging.getLogger("cryptorobot.app")

_LIFECYCLE = ("setup", "teardown")


async def _event_hook(context: HookContext, next_step: Next) -> None:
    """The outermost app hook: emit the method's event once every other hook succeeded."""
    context.event = METHOD_EVENTS.get(context.method)
    await next_step()
    event = context.event
    service: ServiceProxy = context.service
    if event and event not in service.events:
        results = context.result if isinstance(context.result, list) else [context.result]
        for element in results:
            service.emit(event, element, context)


class App:
    """A cryptorobot application: register services with `use`, serve them with a transport.

    >>> app = App()
    >>> app.use("messages", MemoryService())   # doctest: +SKIP
    >>> await app.service("messages").create({"text": "hi"})   # doctest: +SKIP
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = dict(settings or {})
        self.services: dict[str, ServiceProxy] = {}
        self.router: Router[ServiceProxy] = Router()
        self.hook_registry = HookRegistry()
        self.channel_registry = ChannelRegistry()
        self.events = EventPublisher(self)
        self._lifecycle_hooks: dict[str, list[AroundHook]] = {name: [] for name in _LIFECYCLE}
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.connection_authenticator: Callable[[Connection], Any] | None = None
        self.authentication_parsers: list[Callable[[Mapping[str, str]], dict[str, Any] | None]] = []
        self.is_setup = False
        self.on("disconnect", self.channel_registry.close)
        self.on("logout", self._leave_channels_on_logout)

    # -- settings ----------------------------------------------------------------------------

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def set(self, key: str, value: Any) -> App:
        self.settings[key] = value
        return self

    # -- services ----------------------------------------------------------------------------

    def use(self, path: str, service: Any, options: Mapping[str, Any] | None = None) -> ServiceProxy:
        """Register `service` at `path`; options: `methods`, `events`, `route_params`,
        `schemas` (validation and result hooks, see `cryptorobot.schemas`), `docs` (OpenAPI)."""
        location = strip_path(path)
        if not location:
            raise ValueError("a service path can not be empty")
        if isinstance(service, ServiceProxy):
            service = service.raw
        proxy = ServiceProxy(self, location, service, options)
        self.router.insert(location, proxy)
        self.router.insert(f"{location}/:__id", proxy)
        self.services[location] = proxy
        if self.is_setup:
            self._spawn(self._setup_service(proxy))
        return proxy

    def service(self, path: str) -> ServiceProxy:
        """The hook-wrapped service at `path`; Python calls run hooks with no provider."""
        try:
            return self.services[strip_path(path)]
        except KeyError:
            raise NotFound(f"Service '{strip_path(path)}' not found") from None

    def lookup(self, path: str) -> tuple[ServiceProxy, dict[str, Any]] | None:
        """Match a request path (already percent-decoded per segment) against the services."""
        return self.router.lookup(strip_path(path).split("/"))

    def parse_authentication(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """Authentication data from request or handshake headers (first parser that answers)."""
        for parser in self.authentication_parsers:
            found = parser(headers)
            if found is not None:
                return found
        return None

    async def authenticate_connection(self, connection: Connection) -> None:
        """Handshake authentication of a new real-time connection (set by the auth package)."""
        if self.connection_authenticator is not None:
            outcome = self.connection_authenticator(connection)
            if inspect.isawaitable(outcome):
                await outcome

    # -- hooks ---------------------------------------------------------------------------------

    def hooks(self, spec: Any) -> App:
        """App-level hooks for every service (any Feathers format), or `setup`/`teardown` hooks."""
        if isinstance(spec, Mapping) and any(key in _LIFECYCLE for key in spec):
            for name in _LIFECYCLE:
                hooks = spec.get(name) or []
                self._lifecycle_hooks[name].extend([hooks] if callable(hooks) else hooks)
            spec = {key: value for key, value in spec.items() if key not in _LIFECYCLE}
            if not spec:
                return self
        if not isinstance(spec, Mapping) or not any(key in HOOK_KINDS for key in spec):
            spec = {"around": spec}  # app shorthands are plain around hooks (Feathers)
        self.hook_registry.add(spec)
        return self

    def hook_steps(self, method: str) -> list[AroundHook]:
        return [_event_hook, *self.hook_registry.steps(method)]

    # -- channels and publishing ---------------------------------------------------------------

    def channel(self, *names: str | list[str]) -> NamedChannel | CombinedChannel:
        """The named channel (created on first use), or several combined."""
        return self.channel_registry.get(*names)

    @property
    def channels(self) -> list[str]:
        return self.channel_registry.names

    def publish(self, event: str | Callable[..., Any] | None, publisher: Callable[..., Any] | None = None) -> App:
        """Default channels for events of every service (`event` None: all events)."""
        if publisher is None and callable(event):
            event, publisher = None, event
        self.events.publishers[event] = publisher  # type: ignore[index,assignment]
        return self

    def _leave_channels_on_logout(self, result: Any, params: Mapping[str, Any], *_: Any) -> None:
        connection = params.get("connection")
        if isinstance(connection, Connection):
            self.channel_registry.leave_all(connection)

    # -- app events ----------------------------------------------------------------------------

    def on(self, event: str, listener: Callable[..., Any]) -> App:
        self._listeners.setdefault(event, []).append(listener)
        return self

    def off(self, event: str, listener: Callable[..., Any]) -> App:
        listeners = self._listeners.get(event, [])
        if listener in listeners:
            listeners.remove(listener)
        return self

    def emit(self, event: str, *args: Any) -> None:
        """Emit an app event (`connection`, `disconnect`, `login`, `logout`, or your own)."""
        for listener in tuple(self._listeners.get(event, ())):
            self.call_listener(listener, *args)

    def call_listener(self, listener: Callable[..., Any], *args: Any) -> None:
        """Call a listener; coroutine listeners run as tracked tasks, failures are logged."""
        try:
            outcome = listener(*args)
        except Exception:
            log.exception("listener %r failed", listener)
            return
        if inspect.isawaitable(outcome):
            self._spawn(outcome)

    def _spawn(self, awaitable: Any) -> None:
        async def guarded() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("background task failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- life cycle ----------------------------------------------------------------------------

    async def setup(self, server: Any = None) -> None:
        """Set up every service (open stores, create indexes), wrapped by `setup` hooks."""
        if self.is_setup:
            return

        async def run(_: HookContext) -> None:
            for proxy in list(self.services.values()):
                await self._setup_service(proxy)
            self.is_setup = True

        await self._run_lifecycle("setup", run, server)

    async def teardown(self, server: Any = None) -> None:
        """Deliver queued events, finish background tasks, then tear services down."""

        async def run(_: HookContext) -> None:
            await self.events.close()
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            for proxy in reversed(list(self.services.values())):
                teardown = getattr(proxy.raw, "teardown", None)
                if callable(teardown):
                    outcome = teardown()
                    if inspect.isawaitable(outcome):
                        await outcome
            self.is_setup = False

        await self._run_lifecycle("teardown", run, server)

    async def _run_lifecycle(self, name: str, body: Callable[[HookContext], Any], server: Any) -> None:
        context = HookContext(self, None, "", name)
        context.params = {"server": server}
        await compose(self._lifecycle_hooks[name], body)(context)

    async def _setup_service(self, proxy: ServiceProxy) -> None:
        setup = getattr(proxy.raw, "setup", None)
        if callable(setup):
            outcome = setup(self, proxy.path)
            if inspect.isawaitable(outcome):
                await outcome
