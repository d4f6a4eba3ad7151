"""The chunked evaluation workflow (.github/workflows/eval.yml), read with PyYAML: a matrix of chunks that
together cover every slice once, each evaluated by a command and options that exist, artifacts named per
chunk, and a merge job that needs them all and runs `impact snapshot merge` on what download-artifact
fetched. tests/integration/test_eval_chunks_nix.py runs that merge command on real chunk outputs."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import typer
import yaml

from impact.cli import app

EVAL_WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "eval.yml"


def load(path: Path) -> dict[str, Any]:
    """The workflow as data (`on` is YAML 1.1's `true` to PyYAML: put back under its name)."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


def step(doc: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    """The step called `name` of `job`."""
    return next(s for s in doc["jobs"][job]["steps"] if s.get("name") == name)


def command_line(run: str, words: str) -> list[str]:
    """The command of a `run:` script (a folded `>` block is one line) that starts with `words`."""
    line = next(x.strip() for x in run.splitlines() if x.strip().startswith(words))
    return shlex.split(line)


def check_options(call: list[str]) -> None:
    """`impact SUB… OPTIONS` names a command that exists and only options it has."""
    command: Any = typer.main.get_command(app)
    rest = call[1:]
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        command, rest = command.commands[rest[0]], rest[1:]
    params = {opt for p in command.params for opt in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
    used = {a for a in rest if a.startswith("-")}
    assert used <= params, used - params


def test_the_matrix_covers_every_chunk_once() -> None:
    doc = load(EVAL_WORKFLOW)
    chunks = int(doc["env"]["CHUNKS"])
    matrix = doc["jobs"]["eval"]["strategy"]["matrix"]["chunk"]
    assert sorted(matrix) == list(range(chunks)) and chunks >= 2
    assert doc["jobs"]["eval"]["strategy"]["fail-fast"] is False
    assert doc["jobs"]["eval"]["env"]["CHUNK"] == "${{ matrix.chunk }}"


def test_each_chunk_is_evaluated_and_kept_under_its_own_name() -> None:
    doc = load(EVAL_WORKFLOW)
    call = command_line(step(doc, "eval", "Evaluate one chunk")["run"], "impact eval")
    check_options(call)
    assert call[call.index("--chunks") + 1] == "$CHUNKS" and call[call.index("--chunk") + 1] == "$CHUNK"
    out = call[call.index("-o") + 1]
    upload = step(doc, "eval", "Keep the chunk")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == "slice-${{ matrix.chunk }}"
    assert out.replace("$CHUNK", "${{ matrix.chunk }}") + "/" == upload["with"]["path"]


def test_the_merge_job_needs_every_chunk_and_merges_what_it_downloads() -> None:
    doc = load(EVAL_WORKFLOW)
    merge = doc["jobs"]["merge"]
    assert merge["needs"] == "eval" or merge["needs"] == ["eval"]
    fetch = step(doc, "merge", "Fetch the chunks")
    assert fetch["uses"].startswith("actions/download-artifact@")
    assert fetch["with"]["pattern"] == "slice-*"
    call = command_line(step(doc, "merge", "Merge the chunks")["run"], "impact snapshot merge")
    check_options(call)
    assert call[3:] == [f"{fetch['with']['path']}/slice-*", "-o", "snapshot"]
    assert step(doc, "merge", "Keep the snapshot")["with"]["path"] == "snapshot/"


def test_actions_are_pinned_and_no_value_is_spliced_into_a_script() -> None:
    doc = load(EVAL_WORKFLOW)
    for job in doc["jobs"].values():
        for s in job["steps"]:
            if "uses" in s:
                ref = s["uses"].split("@", 1)[1]
                assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), s["uses"]
            assert "${{" not in s.get("run", ""), s["name"]
