"""`impact branches`: checked against the shared evaluations read with json and gzip alone, and a hand-made graph."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from impact.analysis.branches import compare_branches, edit_roots, new_derivations
from impact.cli import main
from impact.model import Derivation, DerivationGraph, Job
from impact.render import frames
from tests.conftest import MASTER, STAGING, require_shared


def _jobs(folder: Path) -> dict[tuple[str, str], tuple[str, frozenset[str]]]:
    """(jobset, attr) → (system, output paths), straight from jobs.jsonl.gz."""
    out = {}
    with gzip.open(folder / "jobs.jsonl.gz", "rt") as f:
        for line in f:
            job = json.loads(line)
            out[(job["jobset"], job["attr"])] = (job["system"], frozenset(job["outputs"].values()))
    return out


def _output_paths(folder: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """drv path → (system, output paths), straight from derivations.json.gz."""
    with gzip.open(folder / "derivations.json.gz", "rt") as f:
        drvs = json.load(f)
    return {p: (d["system"], frozenset(o["path"] for o in d["outputs"].values())) for p, d in drvs.items()}


@pytest.fixture(scope="module")
def master_vs_staging() -> dict:
    """`impact branches MASTER STAGING --json`, run once for the module."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["branches", str(require_shared(MASTER)), str(require_shared(STAGING)), "--json"])
    assert code == 0
    return json.loads(buffer.getvalue())


def test_job_counts_match_the_evaluations(master_vs_staging: dict) -> None:
    a, b = _jobs(MASTER), _jobs(STAGING)
    expected: Counter[tuple[str, str, str]] = Counter()
    for key, (system, outs) in a.items():
        status = "only_a" if key not in b else ("same" if b[key][1] == outs else "differ")
        expected[(key[0], system, status)] += 1
    for key, (system, _) in b.items():
        if key not in a:
            expected[(key[0], system, "only_b")] += 1
    got = Counter(
        {
            (js, system, status): n
            for js, per in master_vs_staging["by_system"].items()
            for system, counts in per.items()
            for status, n in counts.items()
            if n
        }
    )
    assert got == expected
    # Staging's stdenv (gcc 5.4) has not reached master: nearly every nixpkgs job differs.
    assert master_vs_staging["counts"]["nixpkgs"]["differ"] > 0.9 * len(a)
    for js in ("nixpkgs", "nixos"):
        listed = {status: set(master_vs_staging[status][js]) for status in ("only_a", "only_b", "differ")}
        assert listed["only_a"] == {attr for (j, attr) in a if j == js and (j, attr) not in b}
        assert listed["only_b"] == {attr for (j, attr) in b if j == js and (j, attr) not in a}


def test_derivations_new_match_the_evaluations(master_vs_staging: dict) -> None:
    a, b = _output_paths(MASTER), _output_paths(STAGING)
    known_a = {p for _, outs in a.values() for p in outs}
    new_b = Counter(system for system, outs in b.values() if not outs & known_a)
    assert master_vs_staging["derivations"]["new_in_b"] == sum(new_b.values())
    assert master_vs_staging["derivations"]["new_in_b_by_system"] == dict(new_b)


def test_text_prints_the_counts(capsys: pytest.CaptureFixture[str], master_vs_staging: dict) -> None:
    assert main(["branches", str(MASTER), str(STAGING)]) == 0
    out = capsys.readouterr().out
    counts = master_vs_staging["counts"]["nixpkgs"]
    # Rows are "label  count per system …  total"; the nixpkgs jobset comes first, so its rows come first.
    first: dict[str, str] = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) > 1:
            first.setdefault(cells[0], cells[-1])
    assert first["only in A"] == f"{counts['only_a']:,}"
    assert first["only in B"] == f"{counts['only_b']:,}"
    assert first["output paths differ"] == f"{counts['differ']:,}"
    assert first["derivations new in B"] == f"{master_vs_staging['derivations']['new_in_b']:,}"


# -- a hand-made pair of graphs ------------------------------------------------------------------------------


def _drv(name: str, tag: str, inputs: tuple[Derivation, ...] = (), fixed: bool = False) -> Derivation:
    """A derivation whose drv and output hashes are made of the letter `tag` (the same tag, the same paths)."""
    return Derivation(
        path=f"/nix/store/{tag * 32}-{name}.drv",
        name=name,
        system="x86_64-linux",
        outputs={"out": f"/nix/store/{tag.upper() * 32}-{name}"},
        fixed_output=fixed,
        inputs={d.path: ("out",) for d in inputs},
    )


def _graph(drvs: list[Derivation], jobs: list[Derivation]) -> DerivationGraph:
    return DerivationGraph.from_records(
        drvs, [Job(f"{d.name}.x86_64-linux", "x86_64-linux", "nixpkgs", d.path, d.name, dict(d.outputs)) for d in jobs]
    )


def test_hand_made_branches() -> None:
    # A: src (fixed) → lib → app, and tool. B: lib edited, so app is new too; tool gone, extra added.
    src = _drv("src", "s", fixed=True)
    lib_a = _drv("lib", "l", (src,))
    app_a = _drv("app", "a", (lib_a,))
    tool = _drv("tool", "t")
    lib_b = _drv("lib", "m", (src,))
    app_b = _drv("app", "b", (lib_b,))
    extra = _drv("extra", "e")
    a = _graph([src, lib_a, app_a, tool], [lib_a, app_a, tool])
    b = _graph([src, lib_b, app_b, extra], [lib_b, app_b, extra])
    result = compare_branches(a, b)
    assert result.counts("nixpkgs") == {"only_a": 1, "only_b": 1, "differ": 2, "same": 0, "renamed": 0}
    assert result.differ["nixpkgs"] == ("app.x86_64-linux", "lib.x86_64-linux")
    assert result.derivations_new_in_b == 3  # lib, app, extra; src keeps its output path
    assert sorted(result.roots_in_b) == ["extra", "lib"]  # app is new only because lib is
    assert edit_roots(a, new_derivations(a, set())).tolist() == sorted([a.index[src.path], a.index[tool.path]])
    frame = frames.to_dataframe(result, per="job")
    assert sorted(frame["status"]) == ["differ", "differ", "only_a", "only_b"]
    assert set(frame["system"]) == {"x86_64-linux"} and sorted(frame["package"]) == ["app", "extra", "lib", "tool"]
    assert frames.to_dataframe(result)[["only_a", "only_b", "differ", "same"]].sum().tolist() == [1, 1, 2, 0]


def test_missing_snapshot_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["branches", str(tmp_path / "nope"), str(tmp_path / "nope2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err and "Traceback" not in err
