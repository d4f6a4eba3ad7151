"""The estimate on the embedded snapshot, against Nix's own answers, and through the CLI."""

from __future__ import annotations

import json

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate
from impact.cli import main
from impact.model import DerivationGraph
from tests.conftest import MASTER_2016


def test_qemu_matches_nix(embedded_graph: DerivationGraph) -> None:
    # Nix's own answer for an edit of qemu's package file: 12 nixpkgs jobs, 110 nixos jobs, 563 derivations.
    result = estimate(embedded_graph, resolve_change(embedded_graph, names=["qemu"]))
    assert len(result.changed_jobs["nixpkgs"]) == 12
    assert len(result.changed_jobs["nixos"]) == 110
    assert result.derivations_to_build == 563


def test_every_commit_share_is_apart(embedded_graph: DerivationGraph) -> None:
    with_commit = estimate(embedded_graph, resolve_change(embedded_graph, names=["hello"]))
    exact = estimate(embedded_graph, resolve_change(embedded_graph, names=["hello"], commit=False))
    every = with_commit.every_commit_jobs["nixos"]
    assert every and set(every) <= set(with_commit.changed_jobs["nixos"])
    assert set(with_commit.changed_jobs["nixos"]) == set(exact.changed_jobs["nixos"]) | set(every)
    assert with_commit.every_commit_derivations > 0


def test_fixed_output_stops_the_change(embedded_graph: DerivationGraph) -> None:
    # Every fetchurl runs curl, yet curl's change does not reach the consumers of what fetchurl fetched.
    result = estimate(embedded_graph, resolve_change(embedded_graph, names=["curl"], commit=False))
    rebuilt = set(result.rebuilt.tolist())
    fixed = [i for i in range(len(embedded_graph)) if embedded_graph.fixed_output[i]]
    assert not rebuilt & set(fixed)
    assert len(result.changed_jobs["nixpkgs"]) < result.jobs_total["nixpkgs"]


def test_cli_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "qemu", "--json", "--snapshot", MASTER_2016]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["changed_jobs"]["nixpkgs"]) == 12
    assert out["changed_jobs"]["nixpkgs"] == sorted(out["changed_jobs"]["nixpkgs"])
    assert out["derivations_to_build"] == 563
    assert sum(out["derivations_to_build_by_system"].values()) == 563
    assert {r["kind"] for r in out["roots"]} == {"named", "variant", "source-tree"}


def test_cli_text_names_roots_and_totals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "qemu", "--snapshot", MASTER_2016]) == 0
    out = capsys.readouterr().out
    assert "qemu-x86-only-2.6.0" in out and "563" in out and "110 of 118" in out


def test_cli_unknown_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "qemuu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "qemuu" in err and "Traceback" not in err


def test_cli_without_a_change_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate"]) == 2
    assert "no change named" in capsys.readouterr().err


def test_derivations_to_build_per_jobset(master_graph: DerivationGraph) -> None:
    # Independently: from each changed job, walk its inputs by drv path, staying among rebuilt derivations.
    result = estimate(master_graph, resolve_change(master_graph, names=["docker"]))
    rebuilt = {master_graph.drv_paths[i] for i in result.rebuilt.tolist()}
    for jobset, attrs in result.changed_jobs.items():
        needed: set[str] = set()
        stack = [master_graph.job(master_graph.job_index[(jobset, a)]).drv_path for a in attrs]
        while stack:
            path = stack.pop()
            if path in needed:
                continue
            needed.add(path)
            stack.extend(p for p in master_graph.derivation(path).inputs if p in rebuilt)
        per = result.derivations_to_build_by_jobset[jobset]
        assert sum(per.values()) == len(needed)
        for system, count in per.items():
            assert count == sum(1 for p in needed if master_graph.derivation(p).system == system)
    assert sum(result.derivations_to_build_by_jobset["nixpkgs"].values()) < result.derivations_to_build
