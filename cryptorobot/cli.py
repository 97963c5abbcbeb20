"""The `cryptorobot` command: `serve` an app, list its `routes`, and the platform's own commands.

The framework knows only `serve` and `routes`; the composition root (`cryptorobot.platform`)
contributes the rest (`cryptorobot candles ...`) through `add_platform_commands`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .app import App

__all__ = ["load_app", "main"]


def load_app(spec: str | None) -> App:
    """`module:attr` (an App or a zero-argument factory returning one); None: the platform."""
    if not spec:
        from .platform import create_app

        return create_app()
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"--app expects 'module:attribute', got {spec!r}")
    if "." not in sys.path:  # `--app mymodule:app` finds modules in the working directory
        sys.path.insert(0, ".")
    target = getattr(importlib.import_module(module_name), attribute)
    app = target() if callable(target) and not isinstance(target, App) else target
    if not isinstance(app, App):
        raise SystemExit(f"{spec} is not a cryptorobot App nor a factory returning one")
    return app


def _serve(args: argparse.Namespace) -> None:
    from .server import serve

    serve(load_app(args.app), host=args.host, port=args.port)


def _routes(args: argparse.Namespace) -> None:
    app = load_app(args.app)
    width = max((len(path) for path in app.services), default=4)
    print(f"{'PATH':<{width}}  METHODS / EVENTS")
    for path, proxy in sorted(app.services.items()):
        print(f"{path:<{width}}  {', '.join(proxy.methods)}")
        print(f"{'':<{width}}  events: {', '.join(proxy.publishable_events)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cryptorobot", description="Realtime service framework and trading platform API")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve an app over REST and Socket.IO")
    serve.add_argument("--app", help="module:attribute of an App or a factory (default: the trading platform)")
    serve.add_argument("--host", help="interface to bind (config: host)")
    serve.add_argument("--port", type=int, help="port to listen on (config: port)")
    serve.set_defaults(run=_serve)
    routes = commands.add_parser("routes", help="list service paths, methods and events")
    routes.add_argument("--app", help="module:attribute of an App or a factory (default: the trading platform)")
    routes.set_defaults(run=_routes)
    from .platform import add_platform_commands

    add_platform_commands(commands)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
