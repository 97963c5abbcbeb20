"""Hook context and the around/before/after/error runner, in Feathers v5 order.

Every call, whatever its transport, runs one chain of *around* steps ending in the service
method. Before/after/error hooks of one level (app or service) are folded into a single
around step, as Feathers does, so the whole chain is one composed coroutine per method that
is built once and cached until hooks change.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

__all__ = ["HookContext", "HookRegistry", "NOT_SET", "Next", "compose"]

HOOK_KINDS = ("around", "before", "after", "error")
_SHORTHAND = "shorthand"  # around hooks given as a list or `{method: [...]}` (run first, 6.2)


class _NotSet:
    """Sentinel for "no result yet": a hook may legitimately set `result` to None."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_SET"

    def __bool__(self) -> bool:
        return False


NOT_SET: Any = _NotSet()

Next = Callable[[], Awaitable[None]]
AroundHook = Callable[["HookContext", Next], Awaitable[None]]
Step = Callable[["HookContext"], Awaitable[None]]


class HookContext:
    """Everything a hook may read or change about one service call."""

    __slots__ = ("app", "service", "path", "method", "type", "params", "id", "data", "result",
                 "dispatch", "error", "original", "http", "event",
                 "__dict__")  # hooks may add their own attributes, as in Feathers

    def __init__(self, app: Any, service: Any, path: str, method: str,
                 params: dict[str, Any] | None = None, id: Any = NOT_SET, data: Any = NOT_SET) -> None:
        self.app = app
        self.service = service
        self.path = path
        self.method = method
        self.type = "around"
        self.params: dict[str, Any] = {} if params is None else params
        self.id = id
        self.data = data
        self.result: Any = NOT_SET
        self.dispatch: Any = NOT_SET
        self.error: BaseException | None = None
        self.original: HookContext | None = None
        self.http: dict[str, Any] = {}
        self.event: str | None = None

    @property
    def status_code(self) -> int | None:
        """Deprecated Feathers alias of `http["status"]`."""
        return self.http.get("status")

    @status_code.setter
    def status_code(self, value: int | None) -> None:
        self.http["status"] = value

    statusCode = status_code

    @property
    def outgoing(self) -> Any:
        """What transports send: `dispatch` when a hook set it, else `result`."""
        return self.result if self.dispatch is NOT_SET else self.dispatch

    def copy(self) -> HookContext:
        clone = HookContext.__new__(HookContext)
        for name in HookContext.__slots__:
            if name != "__dict__":
                setattr(clone, name, getattr(self, name))
        clone.__dict__.update(self.__dict__)
        clone.params = dict(self.params)
        return clone

    def to_json(self) -> dict[str, Any]:
        """A flat view for logging; never includes params (it holds users and tokens)."""
        fields = {"path": self.path, "method": self.method, "type": self.type}
        if self.id is not NOT_SET:
            fields["id"] = self.id
        if self.error is not None:
            fields["error"] = repr(self.error)
        return fields

    def __repr__(self) -> str:
        return f"<HookContext {self.method} {self.path} ({self.type})>"


async def _run_plain(hook: Callable[..., Any], context: HookContext) -> None:
    """Run a before/after/error hook; a returned mapping is merged into the context (v5)."""
    outcome = hook(context)
    if inspect.isawaitable(outcome):
        outcome = await outcome
    if isinstance(outcome, Mapping):
        for key, value in outcome.items():
            setattr(context, key, value)


async def _run_around(hook: Callable[..., Any], context: HookContext, next_step: Next) -> None:
    outcome = hook(context, next_step)
    if inspect.isawaitable(outcome):
        await outcome


def _regular_step(before: list, after: list, error: list) -> AroundHook:
    """Fold one level's before/after/error hooks into a single around step."""

    async def regular(context: HookContext, next_step: Next) -> None:
        try:
            if before:
                context.type = "before"
                for hook in before:
                    await _run_plain(hook, context)
                context.type = "around"
            await next_step()
            if after:
                context.type = "after"
                for hook in after:
                    await _run_plain(hook, context)
                context.type = "around"
        except Exception as failure:
            if not error:
                raise
            context.original = context.copy()
            context.error = failure
            context.result = NOT_SET
            context.type = "error"
            for hook in error:
                try:
                    await _run_plain(hook, context)
                except Exception as replaced:  # an error hook may replace the error
                    context.error = replaced
            context.type = "around"
            if context.result is NOT_SET:
                assert context.error is not None
                raise context.error from None
            context.error = None

    return regular


def compose(steps: list[AroundHook], final: Step) -> Step:
    """Nest around steps into one coroutine function, outermost first."""
    run = final
    for step in reversed(steps):
        run = _link(step, run)
    return run


def _link(step: AroundHook, inner: Step) -> Step:
    if inspect.iscoroutinefunction(step):  # the usual case: one frame less per step
        async def linked_coroutine(context: HookContext) -> None:
            await step(context, lambda: inner(context))

        return linked_coroutine

    async def linked(context: HookContext) -> None:
        await _run_around(step, context, lambda: inner(context))

    return linked


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if callable(value):
        return [value]
    return list(value)


class HookRegistry:
    """Hooks of one level (the app or one service), by kind and method name."""

    def __init__(self) -> None:
        self._hooks: dict[str, dict[str, list]] = {kind: {} for kind in (_SHORTHAND, *HOOK_KINDS)}
        self.version = 0

    def add(self, spec: Any) -> None:
        """Register hooks in any Feathers format.

        `{"before": {"all": [...], "create": [...]}, "after": f, ...}`; a list (around hooks
        for all methods); or `{"find": [around, ...]}` (around hooks per method).
        """
        if callable(spec) or isinstance(spec, (list, tuple)):
            self._extend(_SHORTHAND, "all", spec)
        elif isinstance(spec, Mapping):
            for key, value in spec.items():
                if key in HOOK_KINDS:
                    if isinstance(value, Mapping):
                        for method, hooks in value.items():
                            self._extend(key, method, hooks)
                    else:
                        self._extend(key, "all", value)
                else:
                    self._extend(_SHORTHAND, key, value)
        else:
            raise TypeError(f"cannot register hooks from {type(spec).__name__}")
        self.version += 1

    def _extend(self, kind: str, method: str, hooks: Any) -> None:
        for hook in _as_list(hooks):
            if not callable(hook):
                raise TypeError(f"{kind} hook for {method!r} is not callable: {hook!r}")
            self._hooks[kind].setdefault(method, []).append(hook)

    def _for(self, kind: str, method: str) -> list:
        by_method = self._hooks[kind]
        return [*by_method.get("all", ()), *by_method.get(method, ())]

    def steps(self, method: str) -> list[AroundHook]:
        """This level's around steps for `method`, with its regular hooks folded in last."""
        steps: list[AroundHook] = [*self._for(_SHORTHAND, method), *self._for("around", method)]
        before, after = self._for("before", method), self._for("after", method)
        by_method = self._hooks["error"]
        error = [*by_method.get(method, ()), *by_method.get("all", ())]
        if before or after or error:
            steps.append(_regular_step(before, after, error))
        return steps

    def methods(self) -> Iterable[str]:
        return {method for by_method in self._hooks.values() for method in by_method}
