"""The application: service registry, app-level hooks, app events, channels and publishing,
the injected clock and the supervisor of background work."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

from .channels import ChannelRegistry, CombinedChannel, Connection, NamedChannel
from .clock import Clock, SystemClock
from .config import from_section
from .errors import FeathersError, NotFound, convert
from .events import EventPublisher
from .hooks import HOOK_KINDS, AroundHook, HookContext, HookRegistry, Next, compose
from .listeners import Listeners
from .query_limits import DataLimits, QueryLimits
from .routing import Router, strip_path
from .service import METHOD_EVENTS, ServiceProxy
from .supervisor import DEFAULT_BACKOFF, DEFAULT_DEADLINE, Supervised, Supervisor, TaskCrash

if TYPE_CHECKING:
    from .openapi import ErrorCode
    from .ratelimit import CallLimits
    from .static_sites import StaticSite

__all__ = ["TASK_CRASHED", "App", "Route"]

_LIFECYCLE = ("setup", "teardown")

TASK_CRASHED = "task-crashed"
"""The app event of every crash of supervised work: `listener(crash: TaskCrash)`."""


class Route(NamedTuple):
    """What a request path resolves to: the service, the record id of an item path
    (`<path>/<id>`, else None) and the route params (the service's `route_params`, with the
    path's `:placeholder` values over them)."""

    service: ServiceProxy
    id: str | None
    params: dict[str, Any]


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

    def __init__(self, settings: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> None:
        """`settings` (see config/default.toml); `clock` tells the wall time to tokens,
        timestamps, expiry timers and the supervisor (default: the system clock)."""
        self.settings: dict[str, Any] = dict(settings or {})
        self.clock: Clock = clock or SystemClock()
        supervision: Mapping[str, Any] = self.settings.get("supervisor") or {}
        self.supervisor = Supervisor(
            self.clock, backoff=supervision.get("backoff", DEFAULT_BACKOFF),
            deadline=float(supervision.get("shutdown_deadline", DEFAULT_DEADLINE)), on_crash=self._report_crash)
        self.query_limits = from_section(QueryLimits, self.settings.get("query"))
        """What one client query may contain (`[query]` settings, `cryptorobot.query_limits`)."""
        self.data_limits = from_section(DataLimits, self.settings.get("data"))
        """How deeply a client's data may nest (`[data]` settings)."""
        self.services: dict[str, ServiceProxy] = {}
        self.router: Router[ServiceProxy] = Router()
        self.hook_registry = HookRegistry()
        self.channel_registry = ChannelRegistry()
        self.events = EventPublisher(self)
        self._lifecycle_hooks: dict[str, list[AroundHook]] = {name: [] for name in _LIFECYCLE}
        self.listeners = Listeners(self._spawn_listener)
        self.security_schemes: dict[str, dict[str, Any]] = {}
        """OpenAPI security schemes (name -> Security Scheme Object) declared by whoever
        registers authentication; the document accepts any one of them."""
        self.connection_authenticator: Callable[[Connection], Any] | None = None
        self.authentication_parsers: list[Callable[[Mapping[str, str]], dict[str, Any] | None]] = []
        self.rate_limits: CallLimits | None = None
        """What client calls are charged to (`cryptorobot.ratelimit.configure_rate_limits`); None: unlimited."""
        self.error_presenter: Callable[[BaseException], FeathersError] | None = None
        """Turns any failure into the error a client receives (`present_error`); None: `errors.convert`."""
        self.error_codes: dict[str, ErrorCode] = {}
        """The machine codes the presenter puts in `data.code`, for `/openapi.json` (`cryptorobot.openapi`)."""
        self.static_sites: list[StaticSite] = []
        """Folders of web pages served beside the API (`cryptorobot.static_sites`), added before serving."""
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
        `arrays` (methods whose data may be a list, see `cryptorobot.admission`), `schemas`
        (validation and result hooks, see `cryptorobot.schemas`), `docs` (OpenAPI),
        `address_budget` (the per-address budget of its calls that identify no user, see
        `cryptorobot.ratelimit`)."""
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
            self.supervisor.spawn(self._setup_service(proxy), name=f"setup of '{location}'")
        return proxy

    def service(self, path: str) -> ServiceProxy:
        """The hook-wrapped service at `path`; Python calls run hooks with no provider."""
        try:
            return self.services[strip_path(path)]
        except KeyError:
            raise NotFound(f"Service '{strip_path(path)}' not found") from None

    def lookup(self, path: str, *, percent_encoded: bool = False) -> Route | None:
        """The service a request path resolves to, with its id and route params; None when
        no service matches. Every transport resolves paths here (Feathers' matching rules,
        `cryptorobot.routing`).

        `percent_encoded=True` for a URL path (REST): it is split on `/` first and each
        segment decoded after, so `%2F` stays inside an id. Socket.IO paths are plain text.
        """
        segments = path.strip("/").split("/")  # strip_path, inlined: every request comes here
        if percent_encoded and "%" in path:
            segments = [unquote(segment) for segment in segments]
        match = self.router.lookup(segments)
        if match is None:
            return None
        proxy, params = match
        id = params.pop("__id", None)
        if proxy.route_params:
            params = {**proxy.route_params, **params}
        return Route(proxy, id, params)

    def parse_authentication(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """Authentication data from request or handshake headers (first parser that answers)."""
        for parser in self.authentication_parsers:
            found = parser(headers)
            if found is not None:
                return found
        return None

    def present_error(self, failure: BaseException) -> FeathersError:
        """The error a client receives for `failure`, whatever raised it and wherever (a
        service call, a transport refusing a request, a socket limit): `error_presenter`'s
        answer when one is set (e.g. to stamp a machine code in `data`), else
        `errors.convert(failure)`. Every transport sends its errors through here."""
        if self.error_presenter is not None:
            return self.error_presenter(failure)
        return convert(failure)

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
        self.listeners.add(event, listener)
        return self

    def off(self, event: str, listener: Callable[..., Any]) -> App:
        self.listeners.remove(event, listener)
        return self

    def emit(self, event: str, *args: Any) -> None:
        """Emit an app event (`connection`, `disconnect`, `login`, `logout`, `task-crashed`,
        or your own); coroutine listeners run as supervised background work."""
        self.listeners.emit(event, *args)

    def _spawn_listener(self, work: Awaitable[Any], event: str) -> None:
        # A crashing listener of the crash event is logged, not reported again (no loop).
        self.supervisor.spawn(work, name=f"listener of '{event}'", report=event != TASK_CRASHED)

    def _report_crash(self, crash: TaskCrash) -> None:
        self.emit(TASK_CRASHED, crash)

    # -- background work -----------------------------------------------------------------------

    def supervise(self, name: str, work: Callable[[], Awaitable[Any]], *, restart: bool = True,
                  backoff: Sequence[float] | None = None) -> Supervised:
        """`app.supervisor.start(...)`: run `work()` as the named task, restarted after a
        crash (exponential `backoff`, `(min, max)` seconds) unless `restart=False`, and
        cancelled at teardown. See `cryptorobot.supervisor`."""
        return self.supervisor.start(name, work, restart=restart, backoff=backoff)

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
        """Deliver queued events, cancel background work (waiting at most the supervisor's
        `shutdown_deadline`), then tear services down."""

        async def run(_: HookContext) -> None:
            await self.events.close()
            await self.supervisor.close()
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
