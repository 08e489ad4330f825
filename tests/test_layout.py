"""Which part may import which: checked in a fresh interpreter, where nothing is loaded yet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(module: str) -> set[str]:
    """The names in ``sys.modules`` once ``module`` is imported."""
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run(  # noqa: S603 (our own module names)
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(result.stdout.split())


def test_the_http_routes_know_nothing_of_telegram() -> None:
    assert "telegram" not in loaded_after("bot.web")


@pytest.mark.parametrize("module", ["bot.app", "bot.cli"])
def test_the_deployed_bot_does_not_load_the_sandbox(module: str) -> None:
    assert "bot.sandbox" not in loaded_after(module)
