"""The platform's error codes: one table (`services/errors.CODES`), the README's copy of it, and every
engine error code in it."""

from __future__ import annotations

import re
from pathlib import Path

import engine.errors
from services.errors import CODES, code_table, platform_error

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_table_is_the_code_table() -> None:
    section = README.read_text().split("### Error codes", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("| "))
    assert table == code_table(), "README's error table differs; it should be:\n" + code_table()
    assert len(re.findall(r"^\| `[A-Z_]+` \|", table, re.M)) == len(CODES)


def test_the_openapi_document_carries_the_table(tmp_path) -> None:
    from cryptorobot.config import load_config
    from cryptorobot.openapi import openapi_spec
    from cryptorobot.platform import create_app

    app = create_app({**load_config("test", environ={}), "data_dir": str(tmp_path)})
    assert code_table() in openapi_spec(app)["info"]["description"]


def test_every_engine_error_code_has_a_row() -> None:
    codes = {cls.code for name in engine.errors.__all__ if isinstance(cls := getattr(engine.errors, name), type)
             and issubclass(cls, engine.errors.EngineError) and cls is not engine.errors.EngineError}
    assert codes <= set(CODES), codes - set(CODES)


def test_a_platform_error_carries_its_code_and_details() -> None:
    error = platform_error("ACCOUNT_INACTIVE", "off", accountId=7)
    assert error.to_json() == {"name": "Conflict", "message": "off", "code": 409, "className": "conflict",
                               "data": {"code": "ACCOUNT_INACTIVE", "accountId": 7}}
