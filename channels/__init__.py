"""Who receives which event.

Anonymous sockets join `anonymous`; on login a socket leaves it and joins `authenticated`
and its own room `users/<id>`. By default an event goes only to the room of the record's
owner (`userId`); services that broadcast (tickers, system events) publish explicitly.
"""

from __future__ import annotations

from typing import Any

from cryptorobot import App, Connection
from cryptorobot.hooks import HookContext

__all__ = ["setup_channels", "user_room"]


def user_room(user_id: Any) -> str:
    return f"users/{user_id}"


def setup_channels(app: App, entity: str = "user", owner_field: str = "userId") -> None:
    # The user room each connection is in: a socket that logs in as someone else must leave
    # the previous user's room, or it would go on receiving their events.
    rooms: dict[Connection, str] = {}

    def on_connection(connection: Connection) -> None:
        if entity not in connection:  # handshake logins already joined their rooms
            app.channel("anonymous").join(connection)

    def on_login(result: dict[str, Any], params: dict[str, Any], context: HookContext | None = None) -> None:
        connection = params.get("connection")
        if connection is None or connection.closed:
            return  # REST logins have no connection to place; a closed one has gone
        room = user_room(result[entity]["_id"])
        previous = rooms.get(connection)
        if previous is not None and previous != room:
            app.channel(previous).leave(connection)
        rooms[connection] = room
        app.channel("anonymous").leave(connection)
        app.channel("authenticated").join(connection)
        app.channel(room).join(connection)

    def on_logout(result: dict[str, Any], params: dict[str, Any], context: HookContext | None = None) -> None:
        connection = params.get("connection")
        if connection is not None:
            rooms.pop(connection, None)  # the app already took it out of every channel
            app.channel("anonymous").join(connection)

    def on_disconnect(connection: Connection) -> None:
        rooms.pop(connection, None)

    def owner_room(data: Any, context: HookContext) -> Any:
        owner = data.get(owner_field) if isinstance(data, dict) else None
        return app.channel(user_room(owner)) if owner is not None else None

    app.on("connection", on_connection)
    app.on("login", on_login)
    app.on("logout", on_logout)
    app.on("disconnect", on_disconnect)
    app.publish(owner_room)
