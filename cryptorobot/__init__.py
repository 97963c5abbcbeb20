"""cryptorobot: a realtime service framework in the style of FeathersJS.

Register services on an `App`; each is served over REST and Socket.IO with one definition
(`create_web_app`, `serve`), hooks wrap every call, and every change becomes an event that
channels deliver. Adapters live in `cryptorobot.adapters`, authentication in
`cryptorobot.auth`, schemas in `cryptorobot.schemas`, error classes in `cryptorobot.errors`,
the Python client of such servers in `cryptorobot.client`; `StaticSite` serves a folder of web
pages beside the API (`app.static_sites`).
`app.clock` (`cryptorobot.clock`) tells the wall time; `app.supervisor`
(`cryptorobot.supervisor`) runs background work.
"""

from . import errors
from .app import App
from .channels import Channel, Connection
from .clock import Clock, ManualClock, SystemClock
from .hooks import NOT_SET, HookContext
from .server import create_web_app, serve
from .service import ServiceProxy
from .static_sites import StaticSite
from .supervisor import Supervised, Supervisor, TaskCrash, TaskStatus

__all__ = [
    "NOT_SET", "App", "Channel", "Clock", "Connection", "HookContext", "ManualClock", "ServiceProxy", "Supervised",
    "StaticSite", "Supervisor", "SystemClock", "TaskCrash", "TaskStatus", "__version__", "create_web_app", "errors", "serve",
]

__version__ = "0.1.0"
