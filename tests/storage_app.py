"""A small persisted app for process-level storage tests (crash recovery)."""

from cryptorobot import App
from cryptorobot.config import load_config
from cryptorobot.storage import persisted
from services import health


def create_app() -> App:
    app = App(load_config())
    health.register(app)
    app.use("trades", persisted(app, id="_id", multi=True, paginate={"default": 25, "max": 100}))
    return app
