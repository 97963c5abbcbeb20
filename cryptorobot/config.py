"""Configuration: `config/default.toml`, then `config/<CRYPTOROBOT_ENV>.toml`, then the environment.

Environment overrides: `CRYPTOROBOT_HOST`, `CRYPTOROBOT_PORT`, `CRYPTOROBOT_DATA_DIR` and any
key as `CRYPTOROBOT_<SECTION>__<KEY>` (double underscore between levels). Values are read as
TOML literals when they parse (`50` -> 50, `true` -> True), as plain strings otherwise.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["config_dir", "from_section", "load_config"]

PREFIX = "CRYPTOROBOT_"
_TOP_LEVEL = {"HOST": "host", "PORT": "port", "DATA_DIR": "data_dir"}


def config_dir() -> Path:
    """`CRYPTOROBOT_CONFIG_DIR`, else `./config` when present, else the project's own."""
    explicit = os.environ.get(f"{PREFIX}CONFIG_DIR")
    if explicit:
        return Path(explicit)
    local = Path.cwd() / "config"
    if (local / "default.toml").is_file():
        return local
    return Path(__file__).resolve().parent.parent / "config"


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _literal(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name, text in environ.items():
        if not name.startswith(PREFIX) or name in (f"{PREFIX}ENV", f"{PREFIX}CONFIG_DIR"):
            continue
        key = name[len(PREFIX):]
        if key in _TOP_LEVEL:
            overrides[_TOP_LEVEL[key]] = _literal(text)
            continue
        path = [part.lower() for part in key.split("__") if part]
        if not path:
            continue
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _literal(text)
    return overrides


def load_config(env: str | None = None, environ: Mapping[str, str] | None = None,
                directory: Path | None = None) -> dict[str, Any]:
    """The merged configuration for `env` (default: `CRYPTOROBOT_ENV` or "development")."""
    environ = os.environ if environ is None else environ
    env = env or environ.get(f"{PREFIX}ENV") or "development"
    directory = directory or config_dir()
    config: dict[str, Any] = {}
    for name in ("default", env):
        file = directory / f"{name}.toml"
        if file.is_file():
            with file.open("rb") as handle:
                config = _merge(config, tomllib.load(handle))
    config = _merge(config, _from_environment(environ))
    config["env"] = env
    return config


def from_section(cls: type[T], section: Mapping[str, Any] | None) -> T:
    """A dataclass of limits built from one settings section: each field present in the
    section is converted to its default's type (`"5"` -> 5 for an int field); absent
    fields keep their defaults; other keys of the section are ignored."""
    section = section or {}
    values: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        if field.name in section:
            convert: Any = type(field.default)
            values[field.name] = convert(section[field.name])
    return cls(**values)
