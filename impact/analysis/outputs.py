"""`impact outputs NAME`: for each output of a (multi-output) package, who takes it, per system.

A consumer names the outputs it uses in its `inputDrvs` (`{"/nix/store/…-curl-7.47.1.drv": ["dev"]}`); the
graph keeps that list on every edge. For each derivation NAME builds (one per system, variants included) and
each of its outputs, this counts the derivations that take that output directly and the jobs that build such a
consumer, and, as a what-if, how many derivations would rebuild if only that output's content changed under
content-addressed early cutoff (see `whatif.cutoff_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from impact.analysis.change import Change, RootKind, resolve_change
from impact.analysis.whatif import cutoff_rows
from impact.model import DerivationGraph


@dataclass(frozen=True, slots=True)
class OutputUse:
    """One output of a derivation and its direct consumers."""

    #: The output name, e.g. `dev`.
    output: str
    #: Its store path (empty for a content-addressed output, known only after building).
    path: str
    #: Names of the derivations that take it, sorted, fixed-output ones last (a name repeats when several
    #: derivations share it).
    consumers: tuple[str, ...]
    #: The .drv paths of those derivations, in the same order.
    consumer_drvs: tuple[str, ...]
    #: How many of those consumers are fixed-output derivations (fetchurl and friends), where a change stops.
    fixed_output_consumers: int
    #: The jobs (`jobset: attr`) that build one of those consumers, sorted.
    jobs: tuple[str, ...]
    #: What-if: derivations that would rebuild if only this output changed (content-addressed early cutoff).
    cutoff_rebuild: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "output": self.output,
            "path": self.path,
            "derivations": len(self.consumers),
            "fixed_output_derivations": self.fixed_output_consumers,
            "jobs": len(self.jobs),
            "consumers": [{"drv": d, "name": n} for d, n in zip(self.consumer_drvs, self.consumers)],
            "consumer_jobs": list(self.jobs),
            "what_if_only_this_output_changed": self.cutoff_rebuild,
        }


@dataclass(frozen=True, slots=True)
class DerivationOutputs:
    """A derivation of the package (one system) with the consumers of each output."""

    drv: str
    name: str
    system: str
    #: Why this derivation belongs to NAME (`nixpkgs: curl.x86_64-linux`, or `same source as …`).
    reason: str
    #: Every output, in the order Nix sorts them.
    outputs: tuple[OutputUse, ...]
    #: Direct consumers over all outputs (each counted once).
    consumers: int
    #: What every consumer rebuilding gives today (input-addressed): the derivations to build.
    rebuild_today: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "drv": self.drv,
            "name": self.name,
            "system": self.system,
            "reason": self.reason,
            "consumers": self.consumers,
            "rebuild_today": self.rebuild_today,
            "outputs": [o.to_dict() for o in self.outputs],
        }


@dataclass(frozen=True)
class OutputsReport:
    """`impact outputs NAME`: each derivation NAME builds, each output, its consumers."""

    #: The name asked for.
    name: str
    derivations: tuple[DerivationOutputs, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape `impact outputs --json` prints)."""
        return {"name": self.name, "derivations": [d.to_dict() for d in self.derivations]}


def package_outputs(graph: DerivationGraph, name: str, *, only: bool = False) -> OutputsReport:
    """The consumers of each output of every derivation the attribute `name` builds (variants unless `only`)."""
    from impact.analysis.rebuild import rebuilt_rows

    change = resolve_change(graph, names=[name], only=only, commit=False)
    found = []
    for root in change.roots:
        i = graph.index[root.path]
        single = Change(description=name, roots=(root,))
        uses = []
        everyone: set[int] = set()
        for output in graph.output_names[i]:
            takers = sorted(
                ((c, graph.names[c]) for c, outs in graph.consumers_of(i) if output in outs),
                key=lambda t: (bool(graph.fixed_output[t[0]]), t[1], graph.drv_paths[t[0]]),
            )
            everyone.update(c for c, _ in takers)
            jobs = sorted(
                f"{graph.job_jobsets[k]}: {graph.job_attrs[k]}"
                for c, _ in takers
                for k in graph.jobs_of_derivation.get(c, [])
            )
            rows, _ = cutoff_rows(graph, single, output)
            uses.append(
                OutputUse(
                    output=output,
                    path=dict(zip(graph.output_names[i], graph.output_paths[i]))[output],
                    consumers=tuple(n for _, n in takers),
                    consumer_drvs=tuple(graph.drv_paths[c] for c, _ in takers),
                    fixed_output_consumers=sum(bool(graph.fixed_output[c]) for c, _ in takers),
                    jobs=tuple(jobs),
                    cutoff_rebuild=int(rows.size),
                )
            )
        found.append(
            DerivationOutputs(
                drv=root.path,
                name=root.name,
                system=root.system,
                reason=root.reason if root.kind is not RootKind.GIVEN else "given",
                outputs=tuple(uses),
                consumers=len(everyone),
                rebuild_today=int(rebuilt_rows(graph, [i]).size),
            )
        )
    found.sort(key=lambda d: (d.name, d.system))
    return OutputsReport(name=name, derivations=tuple(found))
