"""The MongoDB adapter: the shared adapter behaviour on PyMongo's async API (or Motor)."""

from .service import MongoService

__all__ = ["MongoService"]
