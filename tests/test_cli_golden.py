"""Golden tests of every command's help and of the one-line errors, at a fixed width and without colour.

Regenerate after a deliberate change with `IMPACT_UPDATE_GOLDEN=1 pytest tests/test_cli_golden.py`, and read
the diff before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from impact.cli import main

GOLDEN = Path(__file__).parent / "golden" / "help"
SNAPSHOT = str(Path(__file__).resolve().parent.parent / "data" / "nixpkgs-master-2016-06-24.impact")
COMMANDS = [
    [],
    ["estimate"],
    ["rank"],
    ["outputs"],
    ["why"],
    ["compare"],
    ["branches"],
    ["diff"],
    ["eval"],
    ["pr"],
    ["post"],
    ["snapshot"],
    ["snapshot", "import"],
    ["snapshot", "info"],
    ["snapshot", "list"],
    ["snapshot", "merge"],
    ["hydra-compare"],
    ["cache"],
    ["cache", "info"],
    ["cache", "clean"],
]
ERRORS = {
    "estimate-unknown": ["estimate", "no-such-package-xyz", "--snapshot", SNAPSHOT],
    "estimate-nothing": ["estimate", "--snapshot", SNAPSHOT],
    "estimate-json-markdown": ["estimate", "qemu", "--json", "--format", "markdown", "--snapshot", SNAPSHOT],
    "estimate-cost-changed-paths": ["estimate", "qemu", "--cost", "--format", "changed-paths", "--snapshot", SNAPSHOT],
    "estimate-bad-format": ["estimate", "qemu", "--format", "yaml", "--snapshot", SNAPSHOT],
    "compare-one": ["compare", "qemu", "--snapshot", SNAPSHOT],
    "why-nothing": ["why", "hello", "--snapshot", SNAPSHOT],
    "outputs-unknown": ["outputs", "no-such-package-xyz", "--snapshot", SNAPSHOT],
    "rank-kernel": ["rank", "--kernel", "hurd", "--snapshot", SNAPSHOT],
    "missing-snapshot": ["rank", "--snapshot", "/nonexistent/snapshot.impact"],
    "unknown-command": ["estimat", "qemu"],
    "branches-missing": ["branches", "/nonexistent/a.impact", SNAPSHOT],
    "diff-no-head": ["diff", SNAPSHOT],
    "eval-not-a-checkout": ["eval", "/nonexistent/nixpkgs", "-o", "/nonexistent/out"],
    "pr-hydra-one-side": ["pr", SNAPSHOT, SNAPSHOT, "--hydra-base", "/nonexistent/builds.json"],
    "post-no-token": ["post", "--pr", "1", "--repo", "o/r", "--token-env", "IMPACT_TEST_NO_SUCH_TOKEN"],
    "snapshot-info-unknown": ["snapshot", "info", "no-such-snapshot"],
    "hydra-compare-missing": ["hydra-compare", "/nonexistent/base.json", "/nonexistent/head.json"],
    "pr-fail-on-unknown": ["pr", SNAPSHOT, SNAPSHOT, "--fail-on", "rebuild-linux:500+"],
    "cache-info-extra": ["cache", "info", "extra"],
}


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERMINAL_WIDTH", "100")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    text = text.replace(SNAPSHOT, "SNAPSHOT")
    if os.environ.get("IMPACT_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden {path}; run with IMPACT_UPDATE_GOLDEN=1"
    assert text == path.read_text()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "-".join(c) or "impact")
def test_help(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    assert main([*command, "--help"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert not re.search(r"<(list\[|int|str|bool|float|path)", out), "a Python type leaked into the help"
    check("-".join(command) or "impact", out)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code = main(ERRORS[name])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("impact: error: "), err  # usage errors too: one line
    check(f"error-{name}", err)
