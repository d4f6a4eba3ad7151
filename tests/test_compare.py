"""`impact.analysis.compare` on the hand-made graph: what only each change rebuilds, and what all do."""

from __future__ import annotations

from impact.analysis.change import resolve_change
from impact.analysis.compare import compare
from impact.render.branch_text import labels_branch_text
from impact.render.compare import compare_text
from tests.branch_graph import branch_graph


def test_only_and_common_by_hand() -> None:
    graph = branch_graph()
    # libfoo rebuilds libfoo ×3, app, stdenv, tarball, the VM test (7); app rebuilds app and the VM test (2).
    libfoo, app = (resolve_change(graph, [n]) for n in ("libfoo", "app"))
    result = compare(graph, [libfoo, app])
    first, second = result.changes
    assert first.only_jobs == {
        "nixpkgs": (
            "libfoo.i686-linux",
            "libfoo.x86_64-darwin",
            "libfoo.x86_64-linux",
            "stdenv.x86_64-darwin",
            "tarball",
        ),
        "nixos": (),
    }
    assert second.only_jobs == {"nixpkgs": (), "nixos": ()}
    assert (first.only_derivations, second.only_derivations) == (5, 0)
    assert result.common_jobs == {"nixpkgs": ("app.x86_64-linux",), "nixos": ("tests.simple.x86_64-linux",)}
    assert result.common_derivations == 2
    # Both rebuild the simplest VM test with few packages: staging-nixos.
    assert [c.report.branch.target for c in result.changes] == ["staging-nixos", "staging-nixos"]
    text = compare_text(result, graph.label)
    assert text.startswith("impact compare libfoo app  ·  hand-made graph")
    assert "only libfoo rebuilds (nixpkgs, 5): libfoo.i686-linux" in text


def test_compare_with_a_base_and_security() -> None:
    graph = branch_graph()
    result = compare(
        graph, [resolve_change(graph, ["tool"]), resolve_change(graph, ["app"])], base="release-16.03", security=True
    )
    assert [c.report.branch.target for c in result.changes] == ["release-16.03", "release-16.03"]
    assert result.to_dict()["changes"][0]["only"]["jobs"]["nixpkgs"] == ["tool.x86_64-linux"]


def test_labels_branch_text() -> None:
    graph = branch_graph()
    report = compare(graph, [resolve_change(graph, ["tool"]), resolve_change(graph, ["app"])]).changes[0].report
    assert labels_branch_text(report.labels, report.branch) == (
        "Labels: 10.rebuild-linux: 1, 10.rebuild-linux: 1-10, 10.rebuild-darwin: 0\n"
        "Branch: master  (base master, nixpkgs rules)\n"
        "  - 1 package on linux: no rule sends it elsewhere, so master [rule default]\n"
    )
