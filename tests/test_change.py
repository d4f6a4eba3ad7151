"""Naming a change: attributes, variants built from the same source, files, exact derivations."""

from __future__ import annotations

import pytest

from impact.analysis.change import RootKind, package_name, resolve_change, source_tree_derivations
from impact.errors import UnknownNameError
from impact.model import DerivationGraph


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("qemu-2.6.0", "qemu"),
        ("gtk+3-3.20.5", "gtk+3"),
        ("nixos-16.09pre-git", "nixos"),
        ("bootstrap-tools", "bootstrap-tools"),
    ],
)
def test_package_name(name: str, package: str) -> None:
    assert package_name(name) == package


def test_source_tree_derivations_are_the_two_nixos_ones(embedded_graph: DerivationGraph) -> None:
    names = sorted(embedded_graph.names[i] for i in source_tree_derivations(embedded_graph))
    assert names == ["nixos-16.09pre-git", "nixos-16.09pre1.snapshot"]


def test_qemu_variants_share_its_source(embedded_graph: DerivationGraph) -> None:
    change = resolve_change(embedded_graph, names=["qemu"])
    kinds = {(r.name, r.system, r.kind) for r in change.roots}
    for system in ("x86_64-linux", "i686-linux", "x86_64-darwin"):
        assert ("qemu-2.6.0", system, RootKind.NAMED) in kinds
    variants = [r for r in change.roots if r.kind is RootKind.VARIANT]
    assert variants and all(r.name == "qemu-x86-only-2.6.0" for r in variants)
    assert all("qemu-2.6.0.tar.bz2" in r.reason for r in variants)
    assert len(change.source_tree_roots) == 2


def test_only_takes_the_named_attribute_alone(embedded_graph: DerivationGraph) -> None:
    change = resolve_change(embedded_graph, names=["qemu"], only=True)
    assert {r.kind for r in change.roots} == {RootKind.NAMED, RootKind.SOURCE_TREE}


def test_borrowed_source_is_not_a_variant(embedded_graph: DerivationGraph) -> None:
    # test-bootstrap-tools unpacks hello.src but is not built from hello's package file.
    change = resolve_change(embedded_graph, names=["hello"], commit=False)
    assert {r.name for r in change.roots} == {"hello-2.10"}


def test_drv_alone_is_exact(embedded_graph: DerivationGraph) -> None:
    k = embedded_graph.job_attrs.index("hello.x86_64-linux")
    path = embedded_graph.drv_paths[embedded_graph.job_drv[k]]
    change = resolve_change(embedded_graph, drvs=[path])
    assert change.root_paths == [path]
    assert change.roots[0].kind is RootKind.GIVEN


def test_file_names_the_jobs_defined_in_it(embedded_graph: DerivationGraph) -> None:
    by_file = resolve_change(embedded_graph, files=["pkgs/applications/misc/hello/default.nix"])
    by_name = resolve_change(embedded_graph, names=["hello"])
    assert by_file.root_paths == by_name.root_paths


def test_full_attribute_names_one_system(embedded_graph: DerivationGraph) -> None:
    change = resolve_change(embedded_graph, names=["hello.i686-linux"], only=True, commit=False)
    assert [(r.name, r.system) for r in change.roots] == [("hello-2.10", "i686-linux")]


def test_unknown_name_suggests_close_matches(embedded_graph: DerivationGraph) -> None:
    with pytest.raises(UnknownNameError, match="close matches: qemu"):
        resolve_change(embedded_graph, names=["qemuu"])


def test_a_file_without_jobs_is_named_not_refused(embedded_graph: DerivationGraph) -> None:
    """`--file` keeps answering when a file defines no job: it names the file and says the answer is not known to
    be whole (issue 23, item 6); the other files still give their roots."""
    change = resolve_change(embedded_graph, files=["pkgs/no/such/file.nix", "pkgs/applications/misc/hello/default.nix"])
    assert [n.split(" ")[0] for n in change.notes] == ["pkgs/no/such/file.nix"]
    assert any(r.name.startswith("hello-") for r in change.roots)
    alone = resolve_change(embedded_graph, files=["pkgs/no/such/file.nix"])
    assert alone.notes and all(r.kind is RootKind.SOURCE_TREE for r in alone.roots)


def test_unknown_drv(embedded_graph: DerivationGraph) -> None:
    with pytest.raises(UnknownNameError, match="no derivation"):
        resolve_change(embedded_graph, drvs=["/nix/store/00000000000000000000000000000000-x.drv"])


def test_a_package_no_job_builds_is_found_by_derivation_name(embedded_graph: DerivationGraph) -> None:
    assert "firefox" not in embedded_graph.job_packages
    change = resolve_change(embedded_graph, names=["firefox"], commit=False)
    assert change.roots and all(r.name.startswith("firefox-4") and r.kind is RootKind.NAMED for r in change.roots)
    assert all("no job is called firefox" in r.reason for r in change.roots)
