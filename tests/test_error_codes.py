"""The platform's error codes: one table (`services/errors.CODES`), the README's copy of it, and every
engine error code in it."""

from __future__ import annotations

import re
from pathlib import Path

import engine.errors
from services.errors import CODES, platform_error

README = Path(__file__).resolve().parents[1] / "README.md"


def table_rows() -> list[str]:
    """The README table as `services/errors.CODES` says it must be."""
    return [f"| `{code}` | {cls.code} {cls.__name__} | {meaning} |" for code, (cls, meaning) in CODES.items()]


def test_the_readme_table_is_the_code_table() -> None:
    section = README.read_text().split("### Error codes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\| `[A-Z_]+` \|", line)]
    assert rows == table_rows(), "README's error table differs; the rows it should have:\n" + "\n".join(table_rows())


def test_every_engine_error_code_has_a_row() -> None:
    codes = {cls.code for name in engine.errors.__all__ if isinstance(cls := getattr(engine.errors, name), type)
             and issubclass(cls, engine.errors.EngineError) and cls is not engine.errors.EngineError}
    assert codes <= set(CODES), codes - set(CODES)


def test_a_platform_error_carries_its_code_and_details() -> None:
    error = platform_error("ACCOUNT_INACTIVE", "off", accountId=7)
    assert error.to_json() == {"name": "Conflict", "message": "off", "code": 409, "className": "conflict",
                               "data": {"code": "ACCOUNT_INACTIVE", "accountId": 7}}
