"""Ground truth made by Nix itself: every case in ../shared/cases, from its roots, reproduced exactly."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from impact.analysis._walk import ancestors_all
from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate
from impact.model import DerivationGraph
from tests.conftest import CASES, require_shared


def _cases() -> list[Path]:
    return sorted(CASES.glob("*.json")) if CASES.exists() else []


def test_cases_are_present() -> None:
    assert len(_cases()) >= 1 or not require_shared(CASES)


def _case_roots(case: dict) -> list[str]:
    return sorted(set(case["roots"]) | set(case.get("source_roots", ())))


@pytest.mark.parametrize("case_file", _cases(), ids=lambda p: p.stem)
def test_case_from_roots(master_graph: DerivationGraph, case_file: Path) -> None:
    case = json.loads(case_file.read_text())
    result = estimate(master_graph, resolve_change(master_graph, drvs=_case_roots(case)))
    for jobset, expected in case["expected"].items():
        assert list(result.changed_jobs.get(jobset, ())) == sorted(expected["changed"]), jobset
    # What Hydra builds: the changed jobs and, recursively, inputs whose outputs are missing.
    assert result.derivations_to_build == case["hydra_derivations_to_build"]
    assert dict(result.derivations_to_build_by_system) == case["hydra_derivations_to_build_by_system"]


@pytest.mark.parametrize("case_file", _cases(), ids=lambda p: p.stem)
def test_case_rebuilt_but_not_built_are_apart(master_graph: DerivationGraph, case_file: Path) -> None:
    # The case's older figure counts every derivation with new output paths in the changed jobs' full
    # closure; those beyond Hydra's figure must be exactly what the estimate reports as rebuilt but not built.
    case = json.loads(case_file.read_text())
    result = estimate(master_graph, resolve_change(master_graph, drvs=_case_roots(case)))
    changed_rows = [
        master_graph.job_drv[master_graph.job_index[(js, a)]] for js, v in result.changed_jobs.items() for a in v
    ]
    closure = ancestors_all(master_graph, changed_rows)
    in_closure = np.intersect1d(closure, result.rebuilt)
    assert in_closure.size == case["derivations_to_build"]
    by_system = Counter(master_graph.systems[master_graph.system_ids[r]] for r in in_closure.tolist())
    assert dict(by_system) == case["derivations_to_build_by_system"]
    assert set(result.built.tolist()) <= set(in_closure.tolist())
    not_built = Counter(
        master_graph.systems[master_graph.system_ids[r]] for r in np.setdiff1d(result.rebuilt, result.built)
    )
    assert dict(result.rebuilt_not_built_by_system) == dict(not_built)
    assert result.derivations_to_build + result.rebuilt_not_built == result.derivations_with_new_output_paths
    built_per_jobset = result.to_dict()["derivations_to_build_by_jobset"]
    assert max(v["total"] for v in built_per_jobset.values()) <= result.derivations_to_build


@pytest.mark.parametrize("case_file", _cases(), ids=lambda p: p.stem)
def test_case_roots_are_exact_with_drv(master_graph: DerivationGraph, case_file: Path) -> None:
    case = json.loads(case_file.read_text())
    change = resolve_change(master_graph, drvs=case["roots"])
    assert sorted(change.root_paths) == sorted(case["roots"])
    assert change.source_tree_roots == []


@pytest.mark.parametrize("case_file", _cases(), ids=lambda p: p.stem)
def test_case_by_file_gives_the_same_jobs(master_graph: DerivationGraph, case_file: Path) -> None:
    # Naming the edited file instead of the roots: the jobs Nix changed, exactly (the roots are inferred from
    # the jobs defined in the file, their same-source variants and the source-tree derivations).
    case = json.loads(case_file.read_text())
    result = estimate(master_graph, resolve_change(master_graph, files=[case["file"]]))
    for jobset, expected in case["expected"].items():
        assert list(result.changed_jobs.get(jobset, ())) == sorted(expected["changed"]), jobset
    assert set(case["roots"]) <= set(result.change.root_paths)
