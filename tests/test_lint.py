"""The code is formatted and linted by ruff (configured in pyproject.toml): a violation fails the suite, so CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREES = ["impact", "tests", "benchmarks", "scripts"]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *TREES], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_check_finds_nothing() -> None:
    done = ruff("check", "--output-format", "concise")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_changes_nothing() -> None:
    done = ruff("format", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
