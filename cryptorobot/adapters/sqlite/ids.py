"""New record ids: ObjectId hex strings that sort by creation, strictly within a process.

A plain ``bson.ObjectId`` orders by second, then by a counter that starts at a random value
and wraps, so two ids made in the same second can sort backwards. Each new id here is
forced above the previous one (the previous value plus one when needed), which keeps them
valid ObjectIds, close to the real clock, and strictly increasing in this process. Ids from
different processes still order by their second.
"""

from __future__ import annotations

import threading

from bson import ObjectId

__all__ = ["new_id"]

_lock = threading.Lock()
_last = 0


def new_id() -> str:
    """A 24-character lowercase hex id, greater than every id this process made before."""
    global _last
    value = int.from_bytes(ObjectId().binary, "big")
    with _lock:
        if value <= _last:
            value = _last + 1
        _last = value
    return f"{value:024x}"
