"""How the targeted evaluation's paths are cut into Nix processes (`impact.gitchange.targeted`)."""

from __future__ import annotations

import pytest

from impact.gitchange.targeted import NIXOS_SLICES, PATHS_PER_SYSTEM, only_paths, processes_for

SYSTEMS = ["x86_64-linux", "aarch64-linux", "x86_64-darwin"]


def paths(jobset: str, *names: str) -> list[dict[str, object]]:
    return [{"jobset": jobset, "path": n.split(".") if n else []} for n in names]


def test_few_paths_are_one_process_for_every_system() -> None:
    parts = processes_for(paths("nixpkgs", "qemu", "python37Packages.six"), SYSTEMS)
    assert [(p.jobset, p.systems, p.slices) for p in parts] == [("nixpkgs", SYSTEMS, 1)]


def test_many_paths_are_a_process_a_system() -> None:
    many = paths("nixpkgs", *(f"p{i}" for i in range(PATHS_PER_SYSTEM + 1)))
    parts = processes_for(many, SYSTEMS)
    assert [p.systems for p in parts] == [[s] for s in SYSTEMS]
    assert all(p.only == many for p in parts)


def test_the_whole_nixos_jobset_is_sliced_and_apart_from_nixpkgs() -> None:
    parts = processes_for(paths("nixpkgs", "qemu") + paths("nixos", "", "tests.nat"), SYSTEMS)
    assert [p.jobset for p in parts] == ["nixpkgs", *["nixos"] * NIXOS_SLICES]
    assert [(p.slices, p.slice) for p in parts[1:]] == [(NIXOS_SLICES, k) for k in range(NIXOS_SLICES)]
    assert processes_for(paths("nixos", "tests.nat"), SYSTEMS)[0].slices == 1


def test_nothing_to_evaluate_is_no_process() -> None:
    assert processes_for([], SYSTEMS) == []


def test_only_paths_leave_out_skipped_names_and_redundant_paths() -> None:
    only = only_paths(
        {"nixos": [(), ("tests", "nat")], "nixpkgs": [("tarball",), ("qemu",)]}, [], {"nixpkgs": frozenset({"tarball"})}
    )
    assert only == [{"jobset": "nixos", "path": []}, {"jobset": "nixpkgs", "path": ["qemu"]}]


def _graph():  # type: ignore[no-untyped-def]
    """libbar ← baz ← qux, and an unrelated hello; a job each, on x86_64-linux."""
    from impact.model import Derivation, DerivationGraph, Job

    def drv(name: str, *inputs: str) -> Derivation:
        return Derivation(
            path=f"/nix/store/{name[0] * 32}-{name}.drv",
            name=name,
            system="x86_64-linux",
            outputs={"out": f"/nix/store/{name[0].upper() * 32}-{name}"},
            inputs={f"/nix/store/{i[0] * 32}-{i}.drv": ("out",) for i in inputs},
        )

    drvs = [drv("libbar-2.3"), drv("baz-0.9", "libbar-2.3"), drv("qux-1", "baz-0.9"), drv("hello-2.10")]
    jobs = [
        Job(f"{d.name.split('-')[0]}.x86_64-linux", "x86_64-linux", "nixpkgs", d.path, d.name, dict(d.outputs))
        for d in drvs
    ]
    return DerivationGraph.from_records(drvs, jobs)


def _sides():  # type: ignore[no-untyped-def]
    from pathlib import Path

    from impact.gitchange import _Sides
    from impact.nix import Limits, Nix

    return _Sides(Nix(), Limits(), Path("/nonexistent"), Path("/nonexistent"), {}, ["x86_64-linux"], [], {}, _graph())


ALL = [{"jobset": "nixpkgs", "path": [n]} for n in ("libbar", "baz", "qux", "hello")]


def test_jobs_needing_the_job_that_stopped_nix_are_set_aside() -> None:
    needing = _sides().needing(ALL)
    place = {"jobset": "nixpkgs", "path": ["baz", "x86_64-linux"]}
    assert needing(place, "") == [{"jobset": "nixpkgs", "path": ["qux", "x86_64-linux"]}]


def test_the_derivation_nix_names_in_its_trace_is_what_failed() -> None:
    """baz stopped Nix, but Nix's trace says the derivation that failed is libbar's: every job taking libbar,
    libbar's own included, fails for its sake (hello does not)."""
    needing = _sides().needing(ALL)
    place = {"jobset": "nixpkgs", "path": ["baz", "x86_64-linux"]}
    stderr = (
        "error: getting status of 'pkgs/development/libraries/libbar/gone.patch': No such file or directory\n\n"
        "       … while evaluating the attribute 'patches' of the derivation 'libbar-2.3'\n\n"
        "       … while evaluating the attribute 'buildInputs' of the derivation 'baz-0.9'\n"
    )
    assert needing(place, stderr) == [
        {"jobset": "nixpkgs", "path": ["libbar", "x86_64-linux"]},
        {"jobset": "nixpkgs", "path": ["qux", "x86_64-linux"]},
    ]


def _nixos_sides():  # type: ignore[no-untyped-def]
    """A snapshot whose NixOS jobset holds tests.a and tests.b (not tests.k, which its evaluation missed)."""
    from pathlib import Path

    from impact.gitchange import _Sides
    from impact.model import Derivation, DerivationGraph, Job
    from impact.nix import Limits, Nix

    drvs = [
        Derivation(
            f"/nix/store/{c * 32}-vm-test-run-{c}.drv",
            f"vm-test-run-{c}",
            "x86_64-linux",
            {"out": f"/nix/store/{c.upper() * 32}-vm-test-run-{c}"},
            {},
        )
        for c in "ab"
    ]
    jobs = [
        Job(f"tests.{d.name[-1]}.x86_64-linux", "x86_64-linux", "nixos", d.path, d.name, dict(d.outputs)) for d in drvs
    ]
    graph = DerivationGraph.from_records(drvs, jobs)
    sides = _Sides(Nix(), Limits(), Path("/nonexistent"), Path("/nonexistent"), {}, ["x86_64-linux"], [], {}, graph)
    return sides, graph


def _line(name: str, tag: str) -> dict[str, object]:
    return {
        "attr": f"tests.{name}.x86_64-linux",
        "jobset": "nixos",
        "drvPath": f"/nix/store/{tag * 32}-vm-test-run-{name}.drv",
        "outputs": {"out": f"/nix/store/{tag.upper() * 32}-vm-test-run-{name}"},
    }


@pytest.mark.parametrize("head_a", ["x", "y"])
def test_nixos_jobs_differing_from_the_snapshot_are_evaluated_in_base_here(head_a: str) -> None:
    """tests.a writes the tree's folder into its derivation (the snapshot's is `a`, BASE here gives `x`); tests.k
    is missing from the snapshot. Evaluated in BASE at HEAD's folder, an unchanged tests.a and tests.k move
    nothing; a tests.a HEAD really changes (`y`) is a root, its snapshot derivation: no mismatch either way."""
    from impact.gitchange.targeted import Evaluation
    from impact.gitchange.verdict import compare

    sides, graph = _nixos_sides()
    base, head = Evaluation(), Evaluation()
    base.add(sides.snapshot_lines("nixos"))
    base.from_snapshot["nixos"] = 2
    head.add([_line("a", head_a), _line("b", "b"), _line("k", "k")])
    asked: list[list[dict[str, object]]] = []

    def evaluate(only, step, label="", which=("base", "head")):  # type: ignore[no-untyped-def]
        asked.append(only)
        done = Evaluation()
        done.add([_line("a", "x"), _line("k", "k")])
        return {"base": done}

    sides.evaluate = evaluate  # type: ignore[method-assign]
    sides.confirm_from_snapshot({"base": base, "head": head}, lambda _: None)
    assert asked == [[{"jobset": "nixos", "path": ["tests", n]} for n in ("a", "k")]]
    outcome = compare(graph, base, head, set(), {"nixos": {()}})
    assert outcome.mismatches == [] and not outcome.added and not outcome.removed
    assert outcome.roots == ({} if head_a == "x" else {graph.drv_paths[graph.job_drv[0]]: "nixos:tests.a.x86_64-linux"})


def test_an_unbounded_change_claims_nothing_of_the_nixos_jobs_it_left_out() -> None:
    """The NixOS jobset left out (the change unbounded) folds every NixOS candidate with it: none of its jobs
    may then read as 'not evaluated in BASE', which would say the snapshot is another commit's."""
    from impact.gitchange import _prefixes
    from impact.gitchange.candidates import Candidates
    from impact.gitchange.targeted import Evaluation
    from impact.gitchange.verdict import compare

    sides, graph = _nixos_sides()
    candidates = Candidates()
    candidates.attributes["nixos"] |= {(), ("tests", "a")}
    candidates.jobs.add(("nixos", "tests.b.x86_64-linux"))
    sides.left_out_nixos = True
    prefixes = _prefixes(candidates, sides)
    assert "nixos" not in prefixes
    assert compare(graph, Evaluation(), Evaluation(), set(), prefixes).mismatches == []
    sides.left_out_nixos = False
    assert compare(graph, Evaluation(), Evaluation(), set(), _prefixes(candidates, sides)).mismatches != []
