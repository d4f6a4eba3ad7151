"""DataFrames of results: stable columns, and counts that agree with Nix's own answer for qemu."""

from __future__ import annotations

import pytest

from impact import api
from impact.model import DerivationGraph
from impact.render import frames

# Nix's answer for an edit of qemu's package file on the embedded master (README): 12 nixpkgs jobs,
# 110 nixos jobs, 563 derivations.
QEMU = {"nixpkgs": 12, "nixos": 110, "derivations": 563}


def test_estimate_job_frame(embedded_graph: DerivationGraph) -> None:
    frame = frames.to_dataframe(api.estimate(embedded_graph, "qemu"))
    assert tuple(frame.columns) == frames.ESTIMATE_JOB_COLUMNS
    assert frame[frames.JOBSET].value_counts().to_dict() == {"nixos": QEMU["nixos"], "nixpkgs": QEMU["nixpkgs"]}
    # An attribute ends in its system and the package is what comes before it, except for the NixOS tests named
    # without a system (`tests.docker`): those are on the nixos jobset's one system.
    suffixed = frame[frames.PACKAGE] + "." + frame[frames.SYSTEM] == frame[frames.ATTR]
    bare = frame[~suffixed]
    assert not bare.empty and (bare[frames.ATTR] == bare[frames.PACKAGE]).all()
    assert set(bare[frames.JOBSET]) == {"nixos"} and set(bare[frames.SYSTEM]) == {"x86_64-linux"}
    tests = (frame[frames.JOBSET] == "nixos") & frame[frames.ATTR].str.startswith("tests.")
    assert (frame[frames.NIXOS_TEST] == tests).all()
    assert set(frame.loc[frame[frames.JOBSET] == "nixpkgs", frames.PACKAGE]) >= {"qemu", "qemu_kvm", "kvm"}


def test_estimate_system_frame(embedded_graph: DerivationGraph) -> None:
    frame = frames.to_dataframe(api.estimate(embedded_graph, "qemu"), per="system")
    assert tuple(frame.columns) == frames.ESTIMATE_SYSTEM_COLUMNS
    assert frame[frames.SYSTEM].iloc[0] == "x86_64-linux"
    assert frame[frames.NIXPKGS_JOBS].sum() == QEMU["nixpkgs"]
    assert frame[frames.NIXOS_JOBS].sum() == QEMU["nixos"]
    assert frame[frames.DERIVATIONS_TO_BUILD].sum() == QEMU["derivations"]
    assert frame[frames.KERNEL].tolist() == [s.rsplit("-", 1)[1] for s in frame[frames.SYSTEM]]


def test_compare_frames(embedded_graph: DerivationGraph) -> None:
    comparison = api.compare(embedded_graph, "qemu", "hello")
    per_change = frames.to_dataframe(comparison).set_index(frames.CHANGE)
    assert tuple(frames.to_dataframe(comparison).columns) == frames.COMPARE_COLUMNS
    qemu = per_change.loc["qemu"]
    assert (qemu[frames.NIXPKGS_JOBS], qemu[frames.NIXOS_JOBS], qemu[frames.DERIVATIONS_TO_BUILD]) == (12, 110, 563)
    # issue 3's must-show: qemu goes to staging-nixos, hello to master.
    assert qemu[frames.BRANCH] == "staging-nixos" and per_change.loc["hello", frames.BRANCH] == "master"
    per_system = frames.to_dataframe(comparison, per="system")
    assert tuple(per_system.columns) == frames.COMPARE_SYSTEM_COLUMNS
    assert per_system.groupby(frames.CHANGE)[frames.DERIVATIONS_TO_BUILD].sum()["qemu"] == 563


def test_ranking_frame(embedded_graph: DerivationGraph) -> None:
    ranking = api.rank(embedded_graph, kernel="linux")
    frame = frames.to_dataframe(ranking)
    assert tuple(frame.columns) == frames.RANKING_COLUMNS
    assert frame[frames.RANK].tolist() == list(range(1, len(frame) + 1))
    assert frame[frames.JOBS_LINUX].is_monotonic_decreasing
    # One row per package, its aliases (the same derivation) on that row.
    aliases = sum(len(a.split(", ")) for a in frame[frames.ALIASES] if a)
    assert len(frame) + aliases == len(
        {
            embedded_graph.job_packages[k]
            for k in range(embedded_graph.job_count)
            if embedded_graph.job_jobsets[k] == "nixpkgs"
        }
    )
    qemu = frame.set_index(frames.PACKAGE).loc["qemu"]
    assert qemu[frames.JOBS_TOTAL] == QEMU["nixpkgs"] + qemu[frames.NIXOS_JOBS]


@pytest.mark.parametrize("kind", ["jobs", "systems", "ranking", "branches"])
def test_empty_results_give_empty_frames_with_columns(kind: str) -> None:
    import pandas as pd

    frame = frames._frame(
        [],
        {
            "jobs": frames.ESTIMATE_JOB_COLUMNS,
            "systems": frames.ESTIMATE_SYSTEM_COLUMNS,
            "ranking": frames.RANKING_COLUMNS,
            "branches": frames.BRANCHES_COLUMNS,
        }[kind],
    )
    assert isinstance(frame, pd.DataFrame) and frame.empty and len(frame.columns) > 3
