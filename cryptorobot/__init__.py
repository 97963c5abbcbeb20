"""cryptorobot: a realtime service framework in the style of FeathersJS.

Register services on an `App`; each is served over REST and Socket.IO with one definition,
hooks wrap every call, and every change becomes an event that channels deliver.
"""

from .app import App
from .channels import Channel, Connection
from .hooks import HookContext
from .service import ServiceProxy
from . import errors

__all__ = ["App", "Channel", "Connection", "HookContext", "ServiceProxy", "errors", "__version__"]

__version__ = "0.1.0"
