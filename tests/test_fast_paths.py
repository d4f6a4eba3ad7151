"""The fast paths (scipy breadth-first search in `rebuilt_rows`, bitset propagation in `rank`) against a plain
reference: a breadth-first search in pure Python written here, over the input lists of the derivations."""

from __future__ import annotations

import json
import random
import weakref
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from impact.analysis.change import resolve_change
from impact.analysis.rank import package_roots, rank, reach_counts
from impact.analysis.rebuild import rebuilt_rows
from impact.errors import InputError
from impact.model import Derivation, DerivationGraph, Job
from tests.conftest import CASES

_CONSUMERS: weakref.WeakKeyDictionary[DerivationGraph, list[list[int]]] = weakref.WeakKeyDictionary()


def _consumers(graph: DerivationGraph) -> list[list[int]]:
    """Consumer lists built from each derivation's inputs, leaving out fixed-output consumers."""
    if graph not in _CONSUMERS:
        out: list[list[int]] = [[] for _ in range(len(graph))]
        indptr, indices = graph.input_indptr.tolist(), graph.input_indices.tolist()
        fixed = graph.fixed_output.tolist()
        for c in range(len(graph)):
            if fixed[c]:
                continue
            for j in indices[indptr[c] : indptr[c + 1]]:
                out[j].append(c)
        _CONSUMERS[graph] = out
    return _CONSUMERS[graph]


def reference_rebuilt(graph: DerivationGraph, roots: list[int]) -> set[int]:
    """Every derivation reached from `roots` through consumers, never entering a fixed-output one."""
    consumers = _consumers(graph)
    seen = set(roots)
    queue = deque(roots)
    while queue:
        for c in consumers[queue.popleft()]:
            if c not in seen:
                seen.add(c)
                queue.append(c)
    return seen


def _cases() -> list[Path]:
    return sorted(CASES.glob("*.json")) if CASES.exists() else []


@pytest.mark.parametrize("case_file", _cases(), ids=lambda p: p.stem)
def test_rebuilt_rows_matches_reference_on_cases(master_graph: DerivationGraph, case_file: Path) -> None:
    case = json.loads(case_file.read_text())
    roots = [master_graph.index[p] for p in case["roots"]]
    fast = rebuilt_rows(master_graph, roots)
    slow = reference_rebuilt(master_graph, roots)
    assert set(fast.tolist()) == slow
    assert len(slow) == case["derivations_to_build"]


def _reference_row(graph: DerivationGraph, names: list[str]) -> dict[str, int]:
    """A rank row computed the slow way: a package with its aliases is one change naming all of them."""
    change = resolve_change(graph, names=names, commit=False)
    rebuilt = reference_rebuilt(graph, [graph.index[p] for p in change.root_paths])
    jobs = [k for k in range(graph.job_count) if int(graph.job_drv[k]) in rebuilt]
    return {
        "jobs_linux": sum(graph.job_systems[k].endswith("-linux") for k in jobs),
        "jobs_darwin": sum(graph.job_systems[k].endswith("-darwin") for k in jobs),
        "jobs_total": len(jobs),
        "nixos_jobs": sum(graph.job_jobsets[k] == "nixos" for k in jobs),
        "derivations_to_build": len(rebuilt),
        "roots": len(change.roots),
    }


def test_rank_rows_match_reference(master_graph: DerivationGraph) -> None:
    ranking = rank(master_graph)
    rows = {r.package: r for r in ranking.rows}
    sample = ["qemu", "hello", "curl", "gtk3", "stdenv", "perl", "clang", "mesa"]
    sample += random.Random(7).sample(sorted(rows), 6)
    for package in sample:
        row = rows[package].to_dict()
        del row["package"]
        aliases = row.pop("aliases")
        assert row == _reference_row(master_graph, [package, *aliases]), package


def test_rank_is_sorted_and_covers_every_nixpkgs_package(master_graph: DerivationGraph) -> None:
    ranking = rank(master_graph, kernel="darwin")
    keys = [(-r.jobs_darwin, -r.derivations_to_build, r.package) for r in ranking.rows]
    assert keys == sorted(keys)
    expected = {p for p, js in zip(master_graph.job_packages, master_graph.job_jobsets) if js == "nixpkgs"}
    named = [name for r in ranking.rows for name in (r.package, *r.aliases)]
    assert len(named) == len(set(named))
    assert set(named) == expected


def test_package_roots_match_resolve_change(master_graph: DerivationGraph) -> None:
    roots = package_roots(master_graph)
    for package in [*random.Random(3).sample(sorted(roots), 40), "qemu", "gcc-arm-embedded.x86_64-linux"]:
        change = resolve_change(master_graph, names=[package], commit=False)
        assert roots[package].tolist() == sorted(master_graph.index[p] for p in change.root_paths), package


def test_chunked_propagation_gives_the_same_counts(master_graph: DerivationGraph) -> None:
    roots = package_roots(master_graph)
    sets = [roots[p] for p in random.Random(11).sample(sorted(roots), 300)]
    targets = {"derivations": None, "jobs": master_graph.job_drv.astype(np.int64)}
    whole = reach_counts(master_graph, sets, targets)
    # Room for one 64-bit word per derivation and per edge batch: five chunks, each walking its own reach.
    chunked = reach_counts(master_graph, sets, targets, memory=16 * len(master_graph))
    for name in targets:
        assert whole[name].tolist() == chunked[name].tolist()
    for s, count in zip(sets[:20], whole["derivations"].tolist()):
        assert count == len(reference_rebuilt(master_graph, s.tolist()))


# -- a graph small enough to count by hand ----------------------------------------------------------------


def _drv(name: str, system: str = "x86_64-linux", inputs: tuple[str, ...] = (), fixed: bool = False) -> Derivation:
    return Derivation(
        path=f"/nix/store/{name[0] * 32}-{name}.drv",
        name=name,
        system=system,
        outputs={"out": f"/nix/store/{name[0] * 32}-{name}"},
        fixed_output=fixed,
        inputs={f"/nix/store/{i[0] * 32}-{i}.drv": ("out",) for i in inputs},
    )


def _small_graph() -> DerivationGraph:
    # curl → src (fixed-output: stops there) → app;  lib → app, tool;  lib-darwin → tool-darwin
    drvs = [
        _drv("curl-1"),
        _drv("src-1", inputs=("curl-1",), fixed=True),
        _drv("lib-1"),
        _drv("app-1", inputs=("src-1", "lib-1")),
        _drv("tool-1", inputs=("lib-1",)),
        _drv("lib-1d", system="x86_64-darwin"),
        _drv("tool-1d", system="x86_64-darwin", inputs=("lib-1d",)),
    ]
    jobs = [
        Job("curl.x86_64-linux", "x86_64-linux", "nixpkgs", drvs[0].path),
        Job("lib.x86_64-linux", "x86_64-linux", "nixpkgs", drvs[2].path),
        Job("app.x86_64-linux", "x86_64-linux", "nixpkgs", drvs[3].path),
        Job("tool.x86_64-linux", "x86_64-linux", "nixpkgs", drvs[4].path),
        Job("lib.x86_64-darwin", "x86_64-darwin", "nixpkgs", drvs[5].path),
        Job("tool.x86_64-darwin", "x86_64-darwin", "nixpkgs", drvs[6].path),
    ]
    return DerivationGraph.from_records(drvs, jobs, origin="small")


def test_rank_by_hand() -> None:
    rows = {r.package: r for r in rank(_small_graph()).rows}
    # lib on both systems: lib, tool (linux), lib, tool (darwin) and app: one union, not a sum per system.
    assert (rows["lib"].jobs_linux, rows["lib"].jobs_darwin, rows["lib"].derivations_to_build) == (3, 2, 5)
    # curl's change stops at the fixed-output src: only curl itself.
    assert (rows["curl"].jobs_total, rows["curl"].derivations_to_build) == (1, 1)
    assert (rows["tool"].jobs_linux, rows["tool"].jobs_darwin, rows["tool"].roots) == (1, 1, 2)
    assert [r.package for r in rank(_small_graph()).rows] == ["lib", "tool", "app", "curl"]


def test_reach_counts_by_hand_with_repeats_and_sets_that_reach_nothing() -> None:
    graph = _small_graph()
    row = {graph.names[i]: i for i in range(len(graph))}
    sets = [
        np.array([row["lib-1"], row["lib-1"], row["lib-1d"]]),  # repeated root: counted once
        np.array([row["app-1"]]),  # no consumers: its roots alone, without bitsets
        np.array([row["app-1"], row["app-1"], row["tool-1d"]]),  # the same, with a repeat
        np.array([], dtype=np.int64),  # no roots: nothing
        np.array([row["curl-1"]]),  # stops at the fixed-output src
    ]
    jobs = graph.job_drv.astype(np.int64)
    twice = np.array([row["app-1"], row["app-1"], row["tool-1"]])  # a target that lists a row twice
    counts = reach_counts(graph, sets, {"derivations": None, "jobs": jobs, "twice": twice, "none": jobs[:0]})
    for k, roots in enumerate(sets):
        rebuilt = reference_rebuilt(graph, roots.tolist())
        assert counts["derivations"][k] == len(rebuilt)
        assert counts["jobs"][k] == sum(int(d) in rebuilt for d in jobs)
        assert counts["twice"][k] == sum(int(d) in rebuilt for d in twice)
        assert counts["none"][k] == 0
    assert counts["derivations"].tolist() == [5, 1, 2, 0, 1]
    assert counts["twice"].tolist() == [3, 2, 2, 0, 0]
    # Only targets given: no derivation is counted without a target, and no target means no counts.
    assert reach_counts(graph, sets, {"twice": twice})["twice"].tolist() == [3, 2, 2, 0, 0]
    assert reach_counts(graph, sets, {}) == {}


def test_rank_refuses_a_cycle() -> None:
    a = _drv("a-1", inputs=("b-1",))
    b = _drv("b-1", inputs=("a-1",))
    graph = DerivationGraph.from_records(
        [a, b], [Job("a.x86_64-linux", "x86_64-linux", "nixpkgs", a.path)], origin="loop"
    )
    with pytest.raises(InputError, match="cycle"):
        rank(graph)


def test_rank_matches_reference_on_a_synthetic_graph() -> None:
    from benchmarks.synthetic import SYSTEMS, build

    graph = build(20_000, seed=5)
    assert sorted(set(graph.job_systems)) == sorted(SYSTEMS)
    # Chunks of 64 packages (the memory allowance fits one word a row), so many chunks each with its own reach.
    ranking = rank(graph, memory=16 * len(graph))
    rows = {r.package: r for r in ranking.rows}
    for package in ["stdenv", "curl", "openssl", "qemu", *random.Random(2).sample(sorted(rows), 8)]:
        row = rows[package].to_dict()
        del row["package"]
        aliases = row.pop("aliases")
        assert row == _reference_row(graph, [package, *aliases]), package


# -- the version-2 snapshot: stored rank tables, and what a cold estimate imports -----------------------------


def test_rank_from_a_version_2_snapshot_equals_rank_from_the_graph(
    master_graph: DerivationGraph, tmp_path: Path
) -> None:
    from impact.analysis.rank import levels_table, package_roots_table
    from impact.analysis.tables import prepare
    from impact.loaders.compact import read_compact, write_compact

    target = tmp_path / "m.impact"
    write_compact(prepare(master_graph), target)
    graph = read_compact(target)
    assert "levels" in graph.tables and "package_roots" in graph.tables  # read from the file, not built
    for got, want in zip(graph.derived("levels", levels_table), levels_table(master_graph)):
        assert np.array_equal(got, want)
    for got, want in zip(graph.derived("package_roots", package_roots_table), package_roots_table(master_graph)):
        assert np.array_equal(got, want)
    assert rank(graph, kernel="linux").to_dict() == rank(master_graph, kernel="linux").to_dict()
    # Another jobset is not stored: built from the graph, and the same either way.
    assert {k: v.tolist() for k, v in package_roots(graph, "nixos").items()} == {
        k: v.tolist() for k, v in package_roots(master_graph, "nixos").items()
    }


def test_a_cold_estimate_imports_neither_the_notebook_stack_nor_other_commands(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\n"
        "from impact.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['estimate', 'qemu'])\n"
        "heavy = {'pandas', 'matplotlib', 'scipy', 'networkx', 'pydantic', 'numpy.ma'}\n"
        "print(code, sorted(m for m in sys.modules if m in heavy or m.split('.')[0] in heavy),"
        " sorted(m for m in sys.modules if m.startswith('impact.cli.') and not m.startswith('impact.cli._')))\n"
    )
    env = {**os.environ, "IMPACT_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)  # makes the copy
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "0 [] ['impact.cli.estimate']", done.stdout


def test_the_cli_app_still_holds_every_command() -> None:
    from impact.cli import COMMANDS, app

    registered = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    registered |= {g.name for g in app.registered_groups}
    assert set(COMMANDS) <= {name.replace("_", "-") for name in registered if name} | {"snapshot"}
