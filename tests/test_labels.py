"""The 10.rebuild-* labels: buckets by hand, grouping as nixpkgs CI groups, and the Nix-measured cases."""

from __future__ import annotations

import json

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.labels import buckets_of, labels_of, rebuild_labels, split_attr
from impact.analysis.rebuild import estimate
from impact.model import DerivationGraph
from tests.conftest import CASES, require_shared


@pytest.mark.parametrize(
    ("count", "buckets"),
    [
        (0, ["0"]),
        (1, ["1", "1-10"]),
        (2, ["1-10"]),
        (10, ["1-10"]),
        (11, ["11-100"]),
        (100, ["11-100"]),
        (101, ["101-500"]),
        (500, ["101-500"]),
        (501, ["501+", "501-1000"]),
        (700, ["501+", "501-1000"]),
        (1000, ["501+", "501-1000"]),
        (1001, ["501+", "1001-2500"]),
        (2500, ["501+", "1001-2500"]),
        (2501, ["501+", "2501-5000"]),
        (5000, ["501+", "2501-5000"]),
        (5001, ["501+", "5001+"]),
    ],
)
def test_buckets_overlap_as_ci_defines_them(count: int, buckets: list[str]) -> None:
    assert buckets_of(count) == buckets


def test_split_attr_drops_attributes_without_platform() -> None:
    assert split_attr("python3Packages.numpy.x86_64-linux") == ("python3Packages.numpy", "x86_64-linux")
    assert split_attr("tarball") is None


def test_packages_are_unique_names_per_kernel() -> None:
    labels = rebuild_labels(
        {
            "nixpkgs": [
                "hello.x86_64-linux",
                "hello.i686-linux",
                "hello.x86_64-darwin",
                "stdenv.x86_64-linux",
                "tarball",
            ],
            "nixos": ["tests.installer.simple.x86_64-linux"],
        }
    )
    assert labels.rebuild_count_by_kernel == {"linux": 2, "darwin": 1}
    assert labels.rebuilds_by_platform == {
        "i686-linux": ("hello",),
        "x86_64-darwin": ("hello",),
        "x86_64-linux": ("hello", "stdenv"),
    }
    assert labels.active == (
        "10.rebuild-linux: 1-10",
        "10.rebuild-darwin: 1",
        "10.rebuild-darwin: 1-10",
        "10.rebuild-linux-stdenv",
    )
    # The installer test named `simple` changes on every commit; it is not the simplest VM test.
    assert labels.labels["10.rebuild-nixos-tests"] is False
    assert labels.labels["10.rebuild-darwin-stdenv"] is False


def test_nixos_tests_label_from_either_jobset() -> None:
    assert rebuild_labels({"nixos": ["tests.simple.x86_64-linux"]}).labels["10.rebuild-nixos-tests"]
    assert rebuild_labels({"nixpkgs": ["nixosTests.simple-vm.x86_64-linux"]}).labels["10.rebuild-nixos-tests"]


def test_nothing_rebuilt_is_bucket_zero() -> None:
    assert rebuild_labels({}).active == ("10.rebuild-linux: 0", "10.rebuild-darwin: 0")


@pytest.mark.parametrize("case", ["hello", "docker", "gtk3", "curl"])
def test_labels_match_the_nix_measured_cases(case: str, embedded_graph: DerivationGraph) -> None:
    """Labels of the estimate equal the labels of the jobs Nix itself saw change, counted by job system."""
    data = json.loads(require_shared(CASES / f"{case}.json").read_text())
    change = resolve_change(embedded_graph, drvs=[*data["roots"], *data["source_roots"]])
    ours = labels_of(estimate(embedded_graph, change))
    # Count independently of split_attr: each changed job's system and package from the graph's job table.
    changed = set(data["expected"]["nixpkgs"]["changed"])
    for kernel in ("linux", "darwin"):
        names = {
            p
            for a, s, p, js in zip(
                embedded_graph.job_attrs,
                embedded_graph.job_systems,
                embedded_graph.job_packages,
                embedded_graph.job_jobsets,
            )
            if js == "nixpkgs" and a in changed and s.endswith(kernel) and a != p
        }
        assert ours.rebuild_count_by_kernel[kernel] == len(names)
    assert ours.active == rebuild_labels({js: v["changed"] for js, v in data["expected"].items()}).active
