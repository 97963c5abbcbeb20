"""Signal models for the platform: `models` (catalogue and training), `models/signals`,
`models/subscriptions`, and the scorer that turns closed candles into signals.

The machine learning itself is `engine.models`; here are its services. `register(app)`
must come before `market_data.register(app)` in the composition root: its setup hook then
wraps the hub's, so the scorer attaches the ready models once the hub knows its replays, and
detaches them before the hub stops.
"""

from __future__ import annotations

from cryptorobot import App
from cryptorobot.hooks import HookContext, Next

from .catalogue import MODELS_PATH, ModelTrainer, model_file, use_model_catalogue
from .scorer import ModelScorer
from .signals import SIGNALS_PATH, SUBSCRIPTIONS_PATH, record_signal, use_signal_services

__all__ = ["MODELS_PATH", "SIGNALS_PATH", "SUBSCRIPTIONS_PATH", "ModelScorer", "ModelTrainer", "model_file",
           "model_trainer", "record_signal", "register"]

TRAINER = "modelTrainer"


def model_trainer(app: App) -> ModelTrainer:
    """The app's model trainer (`register` must have run)."""
    trainer = app.get(TRAINER)
    if not isinstance(trainer, ModelTrainer):
        raise LookupError("signal models are not registered on this app (services.models.register)")
    return trainer


def register(app: App) -> ModelScorer:
    """Register the model services and tie the scorer to the app's life cycle."""
    trainer = ModelTrainer(app)
    app.set(TRAINER, trainer)
    use_model_catalogue(app, trainer)
    scorer = ModelScorer(app, use_signal_services(app))
    trainer.on_ready = scorer.attach
    app.service(MODELS_PATH).on("removed", lambda record, context=None: app.supervisor.spawn(
        scorer.detach(record["_id"]), name=f"detaching model {record.get('name')}"))

    async def attach_models(context: HookContext, next_step: Next) -> None:
        await next_step()
        await scorer.start()

    async def detach_models(context: HookContext, next_step: Next) -> None:
        await scorer.close()
        await next_step()

    app.hooks({"setup": [attach_models], "teardown": [detach_models]})
    return scorer
