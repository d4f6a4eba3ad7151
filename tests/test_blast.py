"""Blast radius: carriers and leaf jobs, on a graph drawn by hand and on the qemu change of the master snapshot."""

from __future__ import annotations

from collections import deque

import pytest

from impact.analysis.blast import blast_radius
from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate
from impact.cli import main
from impact.model import Derivation, DerivationGraph, Job
from impact.snapshots import SNAPSHOT_ENV
from tests.conftest import MASTER_2016

SYSTEM = "x86_64-linux"


def drv(
    name: str,
    inputs: dict[str, tuple[str, ...]] | None = None,
    outputs: tuple[str, ...] = ("out",),
    fixed: bool = False,
) -> Derivation:
    return Derivation(
        path=f"/nix/store/{name[0] * 32}-{name}.drv",
        name=name,
        system=SYSTEM,
        outputs={o: f"/nix/store/{name[0] * 32}-{name}-{o}" for o in outputs},
        fixed_output=fixed,
        inputs={f"/nix/store/{k[0] * 32}-{k}.drv": v for k, v in (inputs or {}).items()},
    )


def hand_graph() -> DerivationGraph:
    """r (out, dev) ← a (out), b (dev); c ← a; d ← a, b; f is a fetch run by r; g ← f.

    Jobs build a, c, d and g. Rebuilt when r changes: r, a, b, c, d (f keeps its output, so g too).
    """
    derivations = [
        drv("r", outputs=("dev", "out")),
        drv("a", {"r": ("out",)}),
        drv("b", {"r": ("dev",)}),
        drv("c", {"a": ("out",)}),
        drv("d", {"a": ("out",), "b": ("out",)}),
        drv("f", {"r": ("out",)}, fixed=True),
        drv("g", {"f": ("out",)}),
    ]
    by_name = {d.name: d for d in derivations}
    jobs = [
        Job(attr=f"{n}.{SYSTEM}", system=SYSTEM, jobset="nixpkgs", drv_path=by_name[n].path, name=n)
        for n in ("a", "c", "d", "g")
    ]
    return DerivationGraph.from_records(derivations, jobs, origin="by hand")


def test_carriers_and_leaf_jobs_by_hand() -> None:
    graph = hand_graph()
    result = estimate(graph, resolve_change(graph, drvs=[graph.drv_paths[0]]))
    blast = blast_radius(graph, result)
    assert blast.total == 5
    assert blast.direct_dependents == 2
    # a carries a, c, d (jobs a, c, d); b carries b, d (job d).
    assert [(c.name, c.derivations, c.jobs, c.takes) for c in blast.carriers] == [
        ("a", 3, 3, ("r (out)",)),
        ("b", 2, 1, ("r (dev)",)),
    ]
    # a lies under c and d, so the leaves are c and d; building them builds r, a, b, c, d.
    assert blast.leaf_jobs == (f"nixpkgs: c.{SYSTEM}", f"nixpkgs: d.{SYSTEM}")
    assert blast.covered == 5 and blast.uncovered == 0


def downstream(graph: DerivationGraph, row: int) -> set[int]:
    seen = {row}
    queue = deque([row])
    while queue:
        for c, _ in graph.consumers_of(queue.popleft()):
            if c not in seen and not graph.fixed_output[c]:
                seen.add(c)
                queue.append(c)
    return seen


def test_qemu_blast_radius_against_independent_searches(master_graph: DerivationGraph) -> None:
    result = estimate(master_graph, resolve_change(master_graph, ["qemu"]))
    blast = blast_radius(master_graph, result, top=5)
    rebuilt = set(result.rebuilt.tolist())
    jobs_of = master_graph.jobs_of_derivation
    for carrier in blast.carriers:
        below = downstream(master_graph, master_graph.index[carrier.drv])
        assert below <= rebuilt
        assert carrier.derivations == len(below)
        assert carrier.jobs == sum(len(jobs_of.get(i, [])) for i in below)
    assert [c.derivations for c in blast.carriers] == sorted((c.derivations for c in blast.carriers), reverse=True)
    # Hand knowledge: the NixOS test driver (which runs qemu) carries the VM tests, the most of all.
    assert blast.carriers[0].name == "nixos-test-driver"

    changed_drvs = {int(master_graph.job_drv[k]) for k in range(master_graph.job_count)} & rebuilt
    leaf_drvs = set()
    for entry in blast.leaf_jobs:
        jobset, attr = entry.split(": ", 1)
        leaf_drvs.add(int(master_graph.job_drv[master_graph.job_index[(jobset, attr)]]))
    assert leaf_drvs <= changed_drvs
    covered: set[int] = set()
    for d in changed_drvs:
        others_below = downstream(master_graph, d) & changed_drvs - {d}
        # A leaf has no other changed job below it; every non-leaf has one.
        assert (d in leaf_drvs) == (not others_below)
    # Building the leaves builds the rebuilt derivations upstream of them.
    for d in leaf_drvs:
        up = {d}
        stack = [d]
        while stack:
            v = stack.pop()
            if master_graph.fixed_output[v] and v not in {master_graph.index[p] for p in result.change.root_paths}:
                continue
            for j, _ in master_graph.inputs_of(v):
                if j in rebuilt and j not in up:
                    up.add(j)
                    stack.append(j)
        covered |= up
    assert blast.covered == len(covered)
    assert blast.total == len(rebuilt) == 563  # Nix's own count for qemu (README)


def test_estimate_blast_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SNAPSHOT_ENV, MASTER_2016)  # 2016 facts
    import json

    assert main(["estimate", "qemu", "--blast", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["derivations_to_build"] == 563
    assert doc["blast_radius"]["carriers"][0]["name"] == "nixos-test-driver"
    assert doc["blast_radius"]["leaf_job_count"] == len(doc["blast_radius"]["leaf_jobs"])
    assert main(["estimate", "qemu", "--blast"]) == 0
    text = capsys.readouterr().out
    assert "Blast radius:" in text and "leaf jobs rebuilds" in text
