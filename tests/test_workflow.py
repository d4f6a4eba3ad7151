"""The GitHub workflow (.github/workflows/impact.yml) calls impact with commands and options that exist,
and gives the write token only to the job that posts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer

from impact.cli import app

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "impact.yml"


def invocations() -> list[list[str]]:
    """Every `impact …` command line of the workflow (folded `>` blocks joined), as argument lists."""
    text = WORKFLOW.read_text()
    joined = re.sub(r"\n\s+(?=--)", " ", text)  # a folded block continues with indented options
    found = []
    for line in joined.splitlines():
        line = line.strip().removeprefix("run:").strip()
        if line.startswith("impact "):
            found.append(shlex.split(line.replace("${{", "'").replace("}}", "'"))[1:])
    return found


def test_every_impact_call_uses_known_commands_and_options() -> None:
    calls = invocations()
    assert sorted({c[0] for c in calls}) == ["eval", "post", "pr"]
    group = typer.main.get_command(app)
    for call in calls:
        command = group.commands[call[0]]  # type: ignore[attr-defined]
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        used = [a for a in call[1:] if a.startswith("-")]
        assert set(used) <= known, (call, set(used) - known)


def test_only_the_post_job_can_write() -> None:
    text = WORKFLOW.read_text()
    eval_job, post_job = text.split("\n  post:\n")
    assert not re.search(r"^\s+[\w-]+: write", eval_job, re.M)
    assert "pull-requests: write" in post_job and "issues: write" in post_job
    assert "secrets.GITHUB_TOKEN" in post_job and "secrets." not in eval_job
