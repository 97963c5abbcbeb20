"""The README's "Grids and dollar cost averaging" example works as written and prints what it says."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from tests.engine.test_readme_examples import examples


def test_the_grid_and_dca_example_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    code = examples()[2]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README: grids and DCA", "exec"), namespace)
    profit, cycles, first = capsys.readouterr().out.splitlines()
    assert float(profit) == namespace["result"].summary["realizedProfit"] > 0
    assert int(cycles) > 10
    promised = code.split("print(preview[\"orders\"][0])  # ")[1].strip()
    assert ast.literal_eval(first) == ast.literal_eval(promised)
