"""Signals from outside: `signals/webhook` (`webhook.py`), for `webhook` traders."""

from .webhook import WEBHOOK_PATH, WebhookSignals, register

__all__ = ["WEBHOOK_PATH", "WebhookSignals", "register"]
