"""The landscape: stdenv-level packages and rebuild counts, checked by a breadth-first search per package."""

from __future__ import annotations

import pytest

from impact import api
from impact.analysis.landscape import Landscape, rebuilds_per_kernel
from impact.model import DerivationGraph
from impact.render import frames


@pytest.fixture(scope="module")
def landscape(embedded_graph: DerivationGraph) -> Landscape:
    return api.landscape(embedded_graph)


def _stdenv_rebuilt(graph: DerivationGraph, package: str) -> dict[str, bool]:
    """Kernel → whether the estimate of `package` (a search, not the bitsets) changes a `stdenv` job there."""
    changed = api.estimate(graph, package, commit=False).changed_jobs["nixpkgs"]
    return {k: any(a.startswith("stdenv.") and a.endswith("-" + k) for a in changed) for k in ("linux", "darwin")}


def test_stdenv_level_matches_a_search(embedded_graph: DerivationGraph, landscape: Landscape) -> None:
    linux, darwin = set(landscape.stdenv_level["linux"]), set(landscape.stdenv_level["darwin"])
    assert {"gcc", "glibc", "binutils", "perl", "stdenv"} <= linux
    for package in [*sorted(linux | darwin), "openssl", "python", "hello", "qemu", "xz", "curl"]:
        expected = _stdenv_rebuilt(embedded_graph, package)
        assert (package in linux, package in darwin) == (expected["linux"], expected["darwin"]), package


def test_rebuild_counts_are_unique_packages_per_kernel(embedded_graph: DerivationGraph) -> None:
    # hello's change rebuilds hello on each system and nothing else in nixpkgs: 1 package per kernel.
    assert rebuilds_per_kernel(embedded_graph, "hello") == {"linux": 1, "darwin": 1}
    changed = api.estimate(embedded_graph, "qemu", commit=False).changed_jobs["nixpkgs"]
    by_kernel = {k: {a.rsplit(".", 1)[0] for a in changed if a.endswith("-" + k)} for k in ("linux", "darwin")}
    assert rebuilds_per_kernel(embedded_graph, "qemu") == {k: len(v) for k, v in by_kernel.items()}


def test_lines_and_frame(embedded_graph: DerivationGraph, landscape: Landscape) -> None:
    frame = frames.to_dataframe(landscape)
    assert tuple(frame.columns) == frames.LANDSCAPE_COLUMNS
    above = set(landscape.at_or_above(500))
    assert set(landscape.at_or_above(1000)) < above
    # Counted packages at or above the line are exactly those the frame shows there; the rest are not counted
    # because their job count (an upper bound) is below the line.
    counted = frame.dropna(subset=[frames.REBUILDS_LINUX])
    assert above == set(counted.loc[counted[frames.REBUILDS_LINUX] >= 500, frames.PACKAGE])
    uncounted = frame[frame[frames.REBUILDS_LINUX].isna()]
    assert (uncounted[frames.JOBS_LINUX] < 500).all()
    for package in uncounted.sort_values(frames.JOBS_LINUX, ascending=False)[frames.PACKAGE].head(5):
        assert rebuilds_per_kernel(embedded_graph, package)["linux"] < 500
    # Just at the line: libgsf rebuilds 999 Linux jobs, on x86_64 and i686: exactly 500 packages.
    assert "libgsf" in above and rebuilds_per_kernel(embedded_graph, "libgsf")["linux"] == 500
