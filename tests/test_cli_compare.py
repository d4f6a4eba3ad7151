"""`impact compare --format` through `impact.cli.main`: Markdown with the cost side by side, JSON, text."""

from __future__ import annotations

import json

import pytest

from impact.cli import main
from impact.render.markdown import MARKER
from impact.snapshots import SNAPSHOT_ENV
from tests.conftest import MASTER_2016


@pytest.fixture(autouse=True)
def _master_2016(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check 2016 facts: the snapshot named by $IMPACT_SNAPSHOT, as a user would set it."""
    monkeypatch.setenv(SNAPSHOT_ENV, MASTER_2016)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_markdown_has_the_command_and_the_cost_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    text = run(capsys, "compare", "qemu", "linux_4_4", "--format", "markdown", "--cores", "4")
    assert text.startswith(MARKER + "\n")
    assert "```sh\nimpact compare qemu linux_4_4 --cores 4 --format markdown\n```" in text
    assert "### Cost of the rebuilds" in text and "| | `qemu` | `linux_4_4` |" in text
    # The cost comes before what only each change rebuilds, and each CPU-hours cell is what
    # `impact estimate NAME --cost --cores 4` says about that change alone.
    assert text.index("### Cost of the rebuilds") < text.index("### What only each change rebuilds")
    hours = [
        json.loads(run(capsys, "estimate", n, "--cost", "--cores", "4", "--json"))["cost"]["estimate"]["cpu_hours"]
        for n in ("qemu", "linux_4_4")
    ]
    assert f"| CPU-hours | {hours[0]:.1f} h | {hours[1]:.1f} h |" in text
    assert "CPU-hours" not in run(capsys, "compare", "qemu", "linux_4_4", "--format", "markdown", "--no-cost")


def test_json_is_short_for_format_json(capsys: pytest.CaptureFixture[str]) -> None:
    short = run(capsys, "compare", "qemu", "linux_4_4", "--no-cost", "--json")
    long = run(capsys, "compare", "qemu", "linux_4_4", "--no-cost", "--format", "json")
    assert short == long
    assert [c["name"] for c in json.loads(long)["changes"]] == ["qemu", "linux_4_4"]
    # --json with another --format is a conflict, stated in one line (exit 2), as with impact estimate.
    assert main(["compare", "qemu", "linux_4_4", "--no-cost", "--format", "markdown", "--json"]) == 2
    assert "--json cannot be used with --format markdown" in capsys.readouterr().err


def test_text_stays_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    text = run(capsys, "compare", "qemu", "linux_4_4", "--no-cost")
    assert text == run(capsys, "compare", "qemu", "linux_4_4", "--no-cost", "--format", "text")
    assert text.startswith("impact compare qemu linux_4_4  ·  ")


def test_unknown_format_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "qemu", "linux_4_4", "--format", "html"]) == 2
    assert "html" in capsys.readouterr().err
