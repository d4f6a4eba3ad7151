"""Ground truth made by Nix itself: every case in ../shared/cases, from its roots, reproduced exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate
from impact.model import DerivationGraph
from tests.conftest import CASES, require_shared


def _cases() -> list[Path]:
    return sorted(CASES.glob("*.json")) if CASES.exists() else []


def test_cases_are_present() -> None:
    assert len(_cases()) >= 1 or not require_shared(CASES)


@pytest.mark.parametrize("case_file", _cases(), ids=lambda p: p.stem)
def test_case_from_roots(master_graph: DerivationGraph, case_file: Path) -> None:
    case = json.loads(case_file.read_text())
    result = estimate(master_graph, resolve_change(master_graph, drvs=case["roots"]))
    for jobset, expected in case["expected"].items():
        assert list(result.changed_jobs.get(jobset, ())) == sorted(expected["changed"]), jobset
    assert result.derivations_to_build == case["derivations_to_build"]
    assert dict(result.derivations_to_build_by_system) == case["derivations_to_build_by_system"]


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
