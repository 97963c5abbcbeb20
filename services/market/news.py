"""`market/news`: headlines from the RSS and Atom feeds named in the configuration.

    [market.news]
    feeds = ["https://example.com/crypto/rss.xml"]
    interval = 900.0        # seconds between two rounds
    timeout = 20.0          # seconds one feed may take

    GET /market/news?$sort[publishedAt]=-1&$limit=10
    -> {"total": 124, ..., "data": [{"_id": ..., "guid": "...", "title": "...", "link": "https://...",
         "summary": "...", "source": "Example News", "feed": "https://example.com/crypto/rss.xml",
         "publishedAt": "...", "createdAt": "..."}]}

A supervised task (`market/news`) fetches every feed at startup and then every `interval`
seconds (aiohttp), parses it with feedparser (RSS 0.9x/1.0/2.0, Atom; in a thread) and stores
the entries it has not seen: an entry is known by its `guid` (the feed's id, else its link,
else its title), unique in storage, so a round finds nothing twice. A feed that fails is
logged and tried again next round; the others go on. `market/news created` reaches every
signed-in socket. Clients read; nobody writes but the fetcher.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
import feedparser

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.schemas import QuerySchema, Schema, fields, set_timestamps
from cryptorobot.storage import persisted
from hooks import authenticate
from services.users import EQUALITY, RecordId

__all__ = ["NEWS_PATH", "NewsFetcher", "use_news"]

log = logging.getLogger("cryptorobot.market.news")

NEWS_PATH = "market/news"
MAX_TEXT = 2000
MAX_ENTRIES = 500
"""Entries read from one feed document (its first ones: feeds list the newest first)."""


class NewsQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    guid = fields.String(metadata={"operators": EQUALITY})
    source = fields.String(metadata={"operators": EQUALITY})
    feed = fields.String(metadata={"operators": EQUALITY})
    title = fields.String()
    publishedAt = fields.DateTime()
    createdAt = fields.DateTime()


class NewsResultSchema(Schema):
    _id = RecordId()
    guid = fields.String()
    title = fields.String()
    link = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    source = fields.String(allow_none=True, metadata={"description": "The feed's title."})
    feed = fields.String(metadata={"description": "The feed's URL."})
    publishedAt = fields.DateTime(allow_none=True)
    createdAt = fields.DateTime()


def _published(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None


def parse_feed(url: str, body: bytes) -> list[dict[str, Any]]:
    """The entries of a feed document as news records (blocking: call in a thread)."""
    parsed = feedparser.parse(body)
    source = parsed.feed.get("title")
    items = []
    for entry in parsed.entries[:MAX_ENTRIES]:
        guid = entry.get("id") or entry.get("link") or entry.get("title")
        if not guid:
            continue
        items.append({"guid": str(guid)[:MAX_TEXT], "title": str(entry.get("title") or "")[:MAX_TEXT],
                      "link": entry.get("link"), "summary": (entry.get("summary") or "")[:MAX_TEXT] or None,
                      "source": source, "feed": url, "publishedAt": _published(entry)})
    return items


class NewsFetcher:
    """Fetches the configured feeds into `market/news`; see the module documentation."""

    def __init__(self, app: App, feeds: list[str], interval: float, timeout: float) -> None:
        self.app = app
        self.feeds = feeds
        self.interval = interval
        self.timeout = timeout

    async def fetch(self, session: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
        """Store the new entries of one feed; those stored."""
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
            response.raise_for_status()
            body = await response.read()
        items = await asyncio.to_thread(parse_feed, url, body)
        if not items:
            return []
        service = self.app.service(NEWS_PATH)
        known = await service.find({"query": {"guid": {"$in": [item["guid"] for item in items]}},
                                    "paginate": False})
        seen = {record["guid"] for record in known}
        fresh = []
        for item in items:
            if item["guid"] not in seen:
                seen.add(item["guid"])
                fresh.append(await service.create(item))
        return fresh

    async def round(self) -> int:
        """Fetch every feed once; how many entries were new. A feed that fails is logged."""
        stored = 0
        async with aiohttp.ClientSession() as session:
            for url in self.feeds:
                try:
                    stored += len(await self.fetch(session, url))
                except Exception as failure:
                    log.warning("news feed %s failed: %s", url, failure)
        return stored

    async def run(self) -> None:
        while True:
            await self.round()
            await self.app.clock.sleep(self.interval)


def use_news(app: App, settings: dict[str, Any]) -> NewsFetcher:
    """Register `market/news`; the fetcher (started at setup when feeds are configured)."""
    paginate = app.get("paginate") or {"default": 25, "max": 100}
    app.use(NEWS_PATH, persisted(app, id="_id", paginate=paginate, indexes=[Index(("guid",), unique=True),
                                                                            Index(("publishedAt",))]), {
        "methods": ["find", "get"],
        "schemas": {"query": NewsQuerySchema, "result": NewsResultSchema},
        "docs": {"description": "Headlines from the RSS/Atom feeds in `[market.news] feeds`, fetched every "
                                "`interval` seconds, without duplicates. `market/news created` reaches every "
                                "signed-in socket.", "codes": []},
    })
    service = app.service(NEWS_PATH)
    service.hooks({"around": {"all": [authenticate("jwt", "api-key")]},
                   "before": {"create": [set_timestamps()]}})
    service.publish(lambda item, context: app.channel("authenticated"))
    return NewsFetcher(app, [str(feed) for feed in settings.get("feeds") or []],
                       float(settings.get("interval", 900.0)), float(settings.get("timeout", 20.0)))
