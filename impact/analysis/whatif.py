"""What-ifs about outputs: early cutoff when only one output changes, and splitting an output off a package.

Early cutoff (content-addressed derivations, RFC 62, Nix's experimental `ca-derivations`): a content-addressed
output's path is the hash of its content, so when an edit changes only, say, the `man` output of a package,
consumers that take only `out` resolve to the same inputs and are not rebuilt. The what-if is computed on
today's graph: the named roots rebuild; the change passes only to consumers that take the changed output
(never into a fixed-output derivation), and from them on as today. It assumes every derivation it reaches
produces different output, so it is an upper bound: Nix could cut further wherever a rebuild reproduces
identical output, which only building shows. The roots that embed the nixpkgs source tree pass their change on
in full. Today's input-addressed answer (every consumer rebuilds, whatever output it takes) is given beside it.

Split: `--split-output man` asks what happens if a package gains a separate `man` output. What the graph
tells: the split edits the package, so it rebuilds once what any edit of it rebuilds; which consumers would take
the new output (inferred: those that take that output from other packages already, such as NixOS's
`system-path`, which gathers `man` outputs); and what a later change to that output alone would rebuild with
early cutoff. What it cannot tell: which files move to the new output, how much smaller the other outputs and
the consumers' runtime closures get, whether a consumer references those files, and whether its build still
succeeds — that needs building.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis import rebuild
from impact.analysis.change import Change, RootKind
from impact.analysis.rebuild import RebuildEstimate, rebuilt_rows
from impact.errors import UnknownNameError
from impact.model import DerivationGraph

#: What the split what-if cannot know from the graph, in the words the report prints.
SPLIT_UNKNOWNS = (
    "which files the package's build would put in the new output (the graph has no file lists)",
    "how much smaller the other outputs and the consumers' runtime closures get (no sizes without building)",
    "whether a consumer keeping `out` referenced those files, and whether its build still succeeds",
    "whether a consumer not listed would need the new output (the switch is inferred from what it takes elsewhere)",
)

#: What the early-cutoff what-if assumes.
CUTOFF_ASSUMPTION = (
    "every derivation the change reaches produces different output (an upper bound: Nix may cut further where a "
    "rebuild reproduces identical output, which only building shows)"
)


def parse_output_spec(spec: str, names: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str]:
    """`qemu.man` → ((`qemu`,), `man`); a bare `man` applies to `names`."""
    if "." in spec:
        package, output = spec.rsplit(".", 1)
        return ((package, *[n for n in names if n != package]), output)
    if not names:
        raise UnknownNameError(
            f"--only-output {spec}: no package named", tip="write it as NAME.OUTPUT, e.g. --only-output curl.man"
        )
    return names, spec


def _named_rows(graph: DerivationGraph, change: Change) -> list[int]:
    return sorted(graph.index[r.path] for r in change.roots if r.kind is not RootKind.SOURCE_TREE)


def cutoff_rows(graph: DerivationGraph, change: Change, output: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows rebuilt if only `output` of the named roots changed, with content-addressed early cutoff; and the
    consumers of those roots that are cut off (they take only other outputs)."""
    named = _named_rows(graph, change)
    named_set = set(named)
    tree = [graph.index[p] for p in change.source_tree_roots]
    seeds: list[int] = list(tree)
    cut: set[int] = set()
    for r in named:
        for c, outs in graph.consumers_of(r):
            if graph.fixed_output[c] or c in named_set:
                continue
            (seeds.append(c) if output in outs else cut.add(c))
    reached = rebuilt_rows(graph, seeds)
    rows = np.union1d(reached, np.array(named, dtype=np.int64))
    cut_rows = np.setdiff1d(np.array(sorted(cut), dtype=np.int64), rows)
    return rows, cut_rows


@dataclass(frozen=True)
class OnlyOutputWhatIf:
    """Early-cutoff what-if: the rebuild if only one output of the named package changed."""

    #: The output whose content alone changes, e.g. `man`.
    output: str
    #: Named roots that have that output (`name system`).
    with_output: tuple[str, ...]
    #: Named roots that lack it: with early cutoff none of their consumers rebuild.
    without_output: tuple[str, ...]
    #: Direct consumers of the named roots that are cut off (they take only other outputs).
    cut_consumers: int
    #: The what-if (content-addressed, early cutoff).
    what_if: RebuildEstimate
    #: Today's answer (input-addressed: every consumer rebuilds).
    today: RebuildEstimate

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "what_if": "content-addressed derivations with early cutoff (RFC 62); not how nixpkgs builds today",
            "output": self.output,
            "assumes": CUTOFF_ASSUMPTION,
            "roots_with_output": list(self.with_output),
            "roots_without_output": list(self.without_output),
            "cut_consumers": self.cut_consumers,
            "early_cutoff": _summary(self.what_if),
            "input_addressed_today": _summary(self.today),
        }


def _summary(result: RebuildEstimate) -> dict[str, Any]:
    d = result.to_dict()
    return {
        k: d[k]
        for k in (
            "changed_jobs_count",
            "changed_jobs_by_system",
            "derivations_to_build",
            "derivations_to_build_by_system",
            "nixos_tests",
            "changed_jobs",
        )
    }


def only_output(
    graph: DerivationGraph, change: Change, output: str, today: RebuildEstimate | None = None
) -> OnlyOutputWhatIf:
    """Early-cutoff what-if for `change` when only `output` of its named roots changes."""
    named = _named_rows(graph, change)
    has = [i for i in named if output in graph.output_names[i]]
    if not has:
        known = sorted({o for i in named for o in graph.output_names[i]})
        raise UnknownNameError(
            f"no root of {change.description} has an output {output!r}; its outputs: {', '.join(known)}",
            tip="pick one of those outputs, e.g. --only-output NAME.out",
        )
    today = today or rebuild.estimate(graph, change)
    rows, cut = cutoff_rows(graph, change, output)
    tree = [graph.index[p] for p in change.source_tree_roots]
    every = rebuilt_rows(graph, tree) if tree else np.empty(0, dtype=np.int64)

    def label(i: int) -> str:
        return f"{graph.names[i]} {graph.system_of(i)}"

    return OnlyOutputWhatIf(
        output=output,
        with_output=tuple(label(i) for i in has),
        without_output=tuple(label(i) for i in named if i not in has),
        cut_consumers=int(cut.size),
        what_if=rebuild._summarise(graph, change, rows, every),
        today=today,
    )


@dataclass(frozen=True, slots=True)
class Consumer:
    """A consumer of the package being split, and whether it would take the new output."""

    #: The .drv path.
    drv: str
    #: Its name.
    name: str
    #: Its system.
    system: str
    #: The outputs of the package it takes today.
    takes: tuple[str, ...]
    #: True when it would take the new output too (it takes that output from other packages already).
    switches: bool
    #: Why (`takes man from 783 other packages`), or empty.
    because: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "drv": self.drv,
            "name": self.name,
            "system": self.system,
            "takes": list(self.takes),
            "switches": self.switches,
            "because": self.because,
        }


@dataclass(frozen=True)
class SplitWhatIf:
    """What splitting an output off a package would do, as far as the graph tells."""

    #: The new output, e.g. `man`.
    output: str
    #: The package derivations split (`name system`), and those that have the output already.
    packages: tuple[str, ...]
    already_split: tuple[str, ...]
    #: Every direct consumer of those derivations.
    consumers: tuple[Consumer, ...]
    #: Making the split edits the package: what that rebuilds once (today's estimate).
    split_itself: RebuildEstimate
    #: After the split, a change to the new output alone with early cutoff (content-addressed).
    later_change_cutoff: RebuildEstimate

    @property
    def switching(self) -> tuple[Consumer, ...]:
        """The consumers that would take the new output."""
        return tuple(c for c in self.consumers if c.switches)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "what_if": f"split the output {self.output!r} off the package",
            "output": self.output,
            "packages": list(self.packages),
            "already_split": list(self.already_split),
            "consumers": len(self.consumers),
            "switching": [c.to_dict() for c in self.switching],
            "keeping": [c.to_dict() for c in self.consumers if not c.switches],
            "split_itself": _summary(self.split_itself),
            "later_change_to_output_alone": {
                "early_cutoff": _summary(self.later_change_cutoff),
                "input_addressed": "as split_itself: every consumer rebuilds, whatever output it takes",
                "assumes": CUTOFF_ASSUMPTION,
            },
            "cannot_know_without_building": list(SPLIT_UNKNOWNS),
        }


def _takers_elsewhere(graph: DerivationGraph, output: str) -> dict[int, int]:
    """Consumer row → how many derivations it takes `output` from."""
    wanted = np.array([output in s for s in graph.output_sets], dtype=bool)
    edges = np.flatnonzero(wanted[graph.input_output_set])
    consumers = np.repeat(np.arange(len(graph), dtype=np.int64), np.diff(graph.input_indptr))[edges]
    rows, counts = np.unique(consumers, return_counts=True)
    return dict(zip(rows.tolist(), counts.tolist()))


def split_output(
    graph: DerivationGraph, change: Change, output: str, today: RebuildEstimate | None = None
) -> SplitWhatIf:
    """Split what-if: `output` becomes a separate output of the change's named derivations."""
    named = _named_rows(graph, change)
    named_set = set(named)
    takers = _takers_elsewhere(graph, output)
    consumers: list[Consumer] = []
    for p in named:
        for c, outs in graph.consumers_of(p):
            if c in named_set:
                continue
            elsewhere = takers.get(c, 0) - (1 if output in outs else 0)
            switches = output in outs or elsewhere > 0
            because = (
                f"takes {output} already"
                if output in outs
                else f"takes {output} from {elsewhere} other derivation{'s' if elsewhere != 1 else ''}"
                if elsewhere
                else ""
            )
            consumers.append(Consumer(graph.drv_paths[c], graph.names[c], graph.system_of(c), outs, switches, because))
    consumers.sort(key=lambda c: (not c.switches, c.name, c.system))
    today = today or rebuild.estimate(graph, change)
    seeds = [graph.index[c.drv] for c in consumers if c.switches and not graph.fixed_output[graph.index[c.drv]]]
    seeds += [graph.index[p] for p in change.source_tree_roots]
    rows = np.union1d(rebuilt_rows(graph, seeds), np.array(named, dtype=np.int64))
    tree = [graph.index[p] for p in change.source_tree_roots]
    every = rebuilt_rows(graph, tree) if tree else np.empty(0, dtype=np.int64)

    def label(i: int) -> str:
        return f"{graph.names[i]} {graph.system_of(i)}"

    return SplitWhatIf(
        output=output,
        packages=tuple(label(i) for i in named),
        already_split=tuple(label(i) for i in named if output in graph.output_names[i]),
        consumers=tuple(consumers),
        split_itself=today,
        later_change_cutoff=rebuild._summarise(graph, change, rows, every),
    )


@dataclass(frozen=True)
class EstimateSections:
    """The optional sections `impact estimate` adds: blast radius and the output what-ifs."""

    blast: Any = None
    only_output: OnlyOutputWhatIf | None = None
    split: SplitWhatIf | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys these sections add to `impact estimate --json`."""
        out: dict[str, Any] = {}
        if self.blast is not None:
            out["blast_radius"] = self.blast.to_dict()
        if self.only_output is not None:
            out["only_output_what_if"] = self.only_output.to_dict()
        if self.split is not None:
            out["split_output_what_if"] = self.split.to_dict()
        return out


def estimate_sections(
    graph: DerivationGraph,
    result: RebuildEstimate,
    *,
    blast: bool = False,
    only_output_name: str | None = None,
    split_output_name: str | None = None,
) -> EstimateSections:
    """Compute the sections asked for beside an estimate (`--blast`, `--only-output`, `--split-output`)."""
    from impact.analysis.blast import blast_radius

    return EstimateSections(
        blast=blast_radius(graph, result) if blast else None,
        only_output=only_output(graph, result.change, only_output_name, result) if only_output_name else None,
        split=split_output(graph, result.change, split_output_name, result) if split_output_name else None,
    )
