"""Hook context and the around/before/after/error runner, as Feathers 5 runs them.

Every call, whatever its transport, runs one chain of *around* steps ending in the service
method. At each level (the app, then the service) the steps are, outermost first: around
hooks; `before.all` with `error.all`; the method's own before/after/error hooks; `after.all`
(Feathers' `collectHooks` with `@feathersjs/hooks`' `collect`). So `error.all` sees what the
method's error hooks let through, and a method error hook that sets a result skips it. The
chain is one composed coroutine per method, built once and cached until hooks change.
`tests/interop/test_hooks_feathers.py` runs the same scenarios through Feathers itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

__all__ = ["HookContext", "HookRegistry", "NOT_SET", "Next", "compose", "identifies_caller"]

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

_IDENTIFIES = "identifies_caller"


def identifies_caller(hook: Any) -> Any:
    """Mark `hook` as one that identifies the caller (authentication, as `authenticate` does):
    a client call whose hooks hold one is charged to the user it identifies, not to the
    caller's address (`cryptorobot.ratelimit`). Returns `hook`."""
    setattr(hook, _IDENTIFIES, True)
    return hook


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
        """What transports send: `dispatch` when a hook set it, else `result`; None (JSON null,
        JS's undefined) when neither was set (an error hook cleared `error` without a result)."""
        outgoing = self.result if self.dispatch is NOT_SET else self.dispatch
        return None if outgoing is NOT_SET else outgoing

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


async def _run_typed(hook: Callable[..., Any], context: HookContext, kind: str) -> None:
    """Feathers' `runHook`: `context.type` is `kind` while the hook runs and is restored only
    when it succeeds (a failing hook leaves it, as in Feathers)."""
    previous = context.type
    context.type = kind
    await _run_plain(hook, context)
    context.type = previous


def _collect(before: tuple, after: tuple, error: tuple) -> AroundHook:
    """One around step from regular hooks, as `@feathersjs/hooks`' `collect` builds it.

    Before hooks, the rest of the chain, then after hooks (each in registration order); a
    failure anywhere in them goes to this step's error hooks.
    """

    async def collected(context: HookContext, next_step: Next) -> None:
        try:
            for hook in before:
                await _run_typed(hook, context, "before")
            await next_step()
            for hook in after:
                await _run_typed(hook, context, "after")
        except Exception as failure:
            if not error:
                raise
            await _run_error_hooks(error, context, failure)

    return collected


async def _run_error_hooks(hooks: tuple, context: HookContext, failure: Exception) -> None:
    """Feathers' `fromErrorHook` (`@feathersjs/hooks` 0.9, Feathers 5).

    A new failure (not the `context.error` an inner level already handled, or one raised after
    a result was set) snapshots the context into `original`, becomes `context.error` and
    clears the result. The hooks run in order; one that raises ends the chain and its error
    propagates. Afterwards a set `result` turns the call into a success (`context.error`
    stays as it was); otherwise `context.error`, replaced or not, propagates.
    """
    if context.error is not failure or context.result is not NOT_SET:
        context.original = context.copy()
        context.error = failure
        context.result = NOT_SET
    previous = context.type
    context.type = "error"
    try:
        for hook in hooks:
            await _run_plain(hook, context)
    except Exception as replaced:
        context.error = replaced
        raise
    context.type = previous
    if context.result is NOT_SET and context.error is not None:
        raise context.error


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
        """This level's around steps for `method`, outermost first, as Feathers orders them:
        around hooks, then `before.all` with `error.all`, then the method's own
        before/after/error hooks, then `after.all` (the innermost)."""
        steps: list[AroundHook] = [*self._for(_SHORTHAND, method), *self._for("around", method)]
        before, after, error = (self._hooks[kind] for kind in ("before", "after", "error"))
        if before.get("all") or error.get("all"):
            steps.append(_collect(tuple(before.get("all", ())), (), tuple(error.get("all", ()))))
        if before.get(method) or after.get(method) or error.get(method):
            steps.append(_collect(tuple(before.get(method, ())), tuple(after.get(method, ())),
                                  tuple(error.get(method, ()))))
        if after.get("all"):
            steps.append(_collect((), tuple(after["all"]), ()))
        return steps

    def identifies_caller(self, method: str) -> bool:
        """Whether a hook marked by `identifies_caller` runs for `method` at this level."""
        return any(getattr(hook, _IDENTIFIES, False) for kind in self._hooks for hook in self._for(kind, method))

    def methods(self) -> Iterable[str]:
        return {method for by_method in self._hooks.values() for method in by_method}
