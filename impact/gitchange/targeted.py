"""Evaluating only the candidates, with Nix, on both sides of a change.

The candidate attributes are evaluated through the same `jobs.nix` walk as `impact eval` (restricted evaluation,
no import-from-derivation, limits on time and memory), given as `only` paths: each path's jobs, every system of
the jobset, and nothing else. A job that fails is an error line with Nix's message, as on Hydra.

Both trees are evaluated at the same folder, one after the other: a few NixOS jobs write the folder's path into
their derivations, which must not pass for a change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact.nix import EvalProcess, Limits, Nix, eval_release


@dataclass
class Evaluation:
    """The job lines of one side, by (jobset, attr)."""

    #: (jobset, attr) → the nix-eval-jobs line (`drvPath`, `outputs`, … or `error`).
    jobs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    processes: list[EvalProcess] = field(default_factory=list)
    #: Jobset → jobs taken from the snapshot instead of evaluated (it records this side's commit).
    from_snapshot: dict[str, int] = field(default_factory=dict)

    def add(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Index job lines (a job seen twice keeps its first line)."""
        for line in lines:
            key = (str(line.get("jobset", "nixpkgs")), str(line.get("attr", "")))
            self.jobs.setdefault(key, dict(line))


#: The jobs the shipped snapshots leave out, per jobset (../shared/data/README.md): evaluations made by `impact eval`
#: record their own `skip` list, which is used instead.
DEFAULT_SKIP = {
    "nixpkgs": frozenset({"tarball", "metrics", "manual", "lib-tests", "unstable"}),
    "nixos": frozenset({"channel", "manual", "manpages", "options", "iso_graphical", "ova", "tested"}),
}


def skipped_jobs(graph: Any) -> dict[str, frozenset[str]]:
    """Top-level job names the snapshot's evaluation left out, per jobset: its recorded `skip` list (applied to
    both jobsets, as `impact eval --skip` does), else the shipped snapshots' lists."""
    recorded = graph.meta.get("skip") if isinstance(getattr(graph, "meta", None), dict) else None
    if isinstance(recorded, list) and all(isinstance(x, str) for x in recorded):
        names = frozenset(recorded)
        return {"nixpkgs": names, "nixos": names}
    return dict(DEFAULT_SKIP)


def only_paths(
    attributes: Mapping[str, Iterable[tuple[str, ...]]],
    jobs: Iterable[tuple[str, tuple[str, ...]]],
    skip: Mapping[str, frozenset[str]] | None = None,
) -> list[dict[str, Any]]:
    """The `only` argument of jobs.nix: every candidate attribute path and job path, once, per jobset, without
    the jobs the snapshot leaves out (`skip`: top-level names per jobset).

    An empty path (every job of the jobset) makes the jobset's other paths redundant.
    """
    skip = skip or {}
    out: dict[tuple[str, tuple[str, ...]], None] = {}
    whole = {js for js, paths in attributes.items() if () in set(paths)}
    for js, paths in attributes.items():
        for p in sorted(set(paths)):
            if (js not in whole or p == ()) and not (p and p[0] in skip.get(js, ())):
                out[(js, p)] = None
    for js, p in jobs:
        if js not in whole and not (p and p[0] in skip.get(js, ())):
            out[(js, p)] = None
    return [{"jobset": js, "path": list(p)} for js, p in out]


def evaluate_side(
    nix: Nix,
    tree: Path,
    only: Sequence[Mapping[str, Any]],
    systems: Sequence[str],
    nixos_systems: Sequence[str],
    limits: Limits,
    skip: Sequence[str] = (),
    needing: Callable[[Mapping[str, Any], str], Sequence[Mapping[str, Any]]] | None = None,
) -> Evaluation:
    """The candidates' jobs in the tree at `tree` (its top folder); `skip`: top-level names left out; `needing`:
    see `impact.nix.eval_release`."""
    from concurrent.futures import ThreadPoolExecutor

    from impact.evaluate import checked_jobs

    result = Evaluation()

    def one(part: Part) -> list[dict[str, Any]]:
        lines = eval_release(
            nix,
            tree,
            part.systems,
            nixos=part.jobset == "nixos",
            nixos_systems=nixos_systems,
            limits=limits,
            only=part.only,
            skip=skip,
            explain=25,
            needing=needing,
            processes=result.processes,
            chunks=part.slices,
            chunk=part.slice,
        )
        return checked_jobs(lines, nix)  # a job that is no derivation of this store is an error, as on Hydra

    parts = processes_for(only, systems)
    sliced = [p for p in parts if p.slices > 1]
    for part in parts:
        if part.slices == 1:
            result.add(one(part))
    if sliced:
        if nix.store is not None:
            nix.run("nix", "store", "ping")  # create a new store once: Nix processes creating it together collide
        with ThreadPoolExecutor(max_workers=SLICES_AT_ONCE) as pool:
            for lines in pool.map(one, sliced):
                result.add(lines)
    return result


#: The whole NixOS jobset is evaluated in this many stable slices (jobs.nix's chunks), one Nix process each: in one
#: process it takes more memory than a laptop has (2019's: over 8 GB), and a job that stops Nix costs its slice
#: evaluated again, not the jobset.
NIXOS_SLICES = 8
#: Slices evaluated at once (the NixOS jobset is the longest step: about 20 minutes of one core for 2019's).
SLICES_AT_ONCE = 2
#: More candidate paths than this in the nixpkgs jobset are evaluated one system a process, for the same reason.
PATHS_PER_SYSTEM = 200


@dataclass(frozen=True)
class Part:
    """One Nix process of a targeted evaluation: some `only` paths of one jobset, some systems, one slice."""

    jobset: str
    only: list[Mapping[str, Any]]
    systems: list[str]
    slices: int = 1
    slice: int = 0


def processes_for(only: Sequence[Mapping[str, Any]], systems: Sequence[str]) -> list[Part]:
    """How the `only` paths are cut into Nix processes: a jobset a process; many nixpkgs paths a system a process;
    the whole NixOS jobset in `NIXOS_SLICES` slices. Peak memory is the largest process's, not the sum's."""
    parts: list[Part] = []
    nixpkgs = [o for o in only if o["jobset"] == "nixpkgs"]
    if nixpkgs:
        if len(nixpkgs) > PATHS_PER_SYSTEM and len(systems) > 1:
            parts += [Part("nixpkgs", nixpkgs, [s]) for s in systems]
        else:
            parts.append(Part("nixpkgs", nixpkgs, list(systems)))
    nixos = [o for o in only if o["jobset"] == "nixos"]
    if nixos:
        slices = NIXOS_SLICES if any(not o["path"] for o in nixos) else 1
        parts += [Part("nixos", nixos, list(systems), slices, k) for k in range(slices)]
    return parts
