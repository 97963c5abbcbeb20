"""cryptorobot: a realtime service framework in the style of FeathersJS.

Register services on an `App`; each is served over REST and Socket.IO with one definition
(`create_web_app`, `serve`), hooks wrap every call, and every change becomes an event that
channels deliver. Adapters live in `cryptorobot.adapters`, authentication in
`cryptorobot.auth`, schemas in `cryptorobot.schemas`, error classes in `cryptorobot.errors`.
"""

from . import errors
from .app import App
from .channels import Channel, Connection
from .hooks import NOT_SET, HookContext
from .server import create_web_app, serve
from .service import ServiceProxy

__all__ = ["App", "Channel", "Connection", "HookContext", "NOT_SET", "ServiceProxy", "create_web_app", "errors",
           "serve", "__version__"]

__version__ = "0.1.0"
