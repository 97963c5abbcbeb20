"""A small configured app for tests that run real server processes (crash recovery, scale-out).

Configuration comes from the environment like a deployment's: storage, data directory,
Redis URL. Every socket joins `everyone`; every event goes there.
"""

from cryptorobot import App
from cryptorobot.config import load_config
from cryptorobot.storage import persisted
from services import health


def create_app() -> App:
    app = App(load_config())
    health.register(app)
    app.use("trades", persisted(app, id="_id", multi=True, paginate={"default": 25, "max": 100}))
    app.on("connection", lambda connection: app.channel("everyone").join(connection))
    app.publish(lambda data, context: app.channel("everyone"))
    return app
