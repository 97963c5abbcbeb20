"""A Python client of cryptorobot servers (and of any Feathers v5 server).

    from cryptorobot.client import Client

    async with Client("http://localhost:3030") as client:          # Socket.IO; transport="rest" for REST
        await client.authenticate({"strategy": "local", "email": "you@example.com", "password": "..."})
        strategies = client.service("strategies")
        page = await strategies.find(query={"type": "momentum", "$sort": {"createdAt": -1}})
        created = await strategies.create({"name": "New Strategy", "type": "momentum", "pair": "BTC/USDT"})
        await strategies.patch(created["_id"], {"name": "Updated Name"})
        await client.service("traders").start({"traderId": "..."})  # a custom method
        client.service("traders").on("patched", lambda trader: print(trader["status"]))
        client.on("disconnect", lambda: print("Connection lost - attempting to reconnect..."))

It speaks Feathers v5's wire protocol (`feathers-wire.md`): Socket.IO calls with
acknowledgements and `"<path> <event>"` events (`socket`), or REST verbs with qs-encoded query
strings (`rest`, `querystring`). Server errors are raised as `cryptorobot.errors` classes.
A Socket.IO client reconnects and logs in again by itself; calls made meanwhile wait for it.
`SyncClient` (or `Client.sync(url)`) is the blocking form for scripts and notebooks.

The client depends on the framework's errors and JSON codec only: never on the platform.
"""

from .client import CLIENT_EVENTS, CONNECTION_EVENTS, Client
from .querystring import stringify_query
from .service import Service
from .sync import SyncClient, SyncService

__all__ = ["CLIENT_EVENTS", "CONNECTION_EVENTS", "Client", "Service", "SyncClient", "SyncService", "stringify_query"]
