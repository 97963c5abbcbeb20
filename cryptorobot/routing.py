"""The service router: a trie of path segments with `:name` placeholders (Feathers' rules).

Each service is reachable at `path` and `path/:__id`. At each depth a literal segment wins
over a placeholder; among placeholders, the first registered one leading to a full match
wins. A placeholder matches exactly one segment.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

__all__ = ["Router", "strip_path"]

T = TypeVar("T")


def strip_path(path: str) -> str:
    """`/messages/` -> `messages`: the canonical form of a service path."""
    return path.strip("/")


class _Node(Generic[T]):
    __slots__ = ("literals", "placeholders", "value")

    def __init__(self) -> None:
        self.literals: dict[str, _Node[T]] = {}
        self.placeholders: list[tuple[str, _Node[T]]] = []
        self.value: T | None = None


class Router(Generic[T]):
    """Maps segment lists to registered values and their placeholder values."""

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()

    def insert(self, path: str, value: T) -> None:
        node = self._root
        for segment in strip_path(path).split("/"):
            if segment.startswith(":"):
                name = segment[1:]
                child = next((n for key, n in node.placeholders if key == name), None)
                if child is None:
                    child = _Node()
                    node.placeholders.append((name, child))
                node = child
            else:
                node = node.literals.setdefault(segment, _Node())
        if node.value is not None:
            raise ValueError(f"a service is already registered at '{strip_path(path)}'")
        node.value = value

    def lookup(self, segments: list[str]) -> tuple[T, dict[str, Any]] | None:
        """The value whose pattern matches all `segments`, with the placeholder values."""
        params: dict[str, Any] = {}
        found = self._match(self._root, segments, 0, params)
        return None if found is None else (found, params)

    def _match(self, node: _Node[T], segments: list[str], depth: int, params: dict[str, Any]) -> T | None:
        if depth == len(segments):
            return node.value
        segment = segments[depth]
        literal = node.literals.get(segment)
        if literal is not None:
            found = self._match(literal, segments, depth + 1, params)
            if found is not None:
                return found
        for name, child in node.placeholders:
            found = self._match(child, segments, depth + 1, params)
            if found is not None:
                params[name] = segment
                return found
        return None
