"""How the targeted evaluation's paths are cut into Nix processes (`impact.gitchange.targeted`)."""

from __future__ import annotations

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
