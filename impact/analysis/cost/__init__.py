"""Cost of a rebuild: CPU-hours per system, the critical path, and wall-clock time on a build farm.

Durations come from build records (`impact.loaders.durations`) matched onto the derivations of the snapshot,
and, for every derivation no record matches, from a stated default model (`DEFAULT_MODEL`). Every answer says
how much of it rests on data and how much on the model.

Matching a record to a derivation, best first: the same .drv path; the same Hydra job attribute
(`qemu.x86_64-linux`, the job's derivation in the snapshot); the same derivation name and system
(`qemu-2.6.0` on `x86_64-linux`, an older evaluation of the same version); the same package name and system
(`qemu`, another version). Among records that match equally well, the newest wins.

Cores and CPU-hours. A duration is wall-clock time of one build on one machine. impact counts a build as
holding one core for its duration, except a `big-parallel` build (kernels, browsers), which Hydra sends to a
big machine and which holds all `cores` of one machine. CPU-hours = sum of duration × cores held.

The farm. `machines` maps a system to how many machines of that system there are, each with `cores` build
slots (Hydra's maxJobs = cores). An `x86_64-linux` machine also builds `i686-linux`, as Hydra's Linux
builders do; a darwin build needs a darwin machine. A `builtin` derivation (`builtin:fetchurl`) runs on the
queue runner itself and takes no slot. Every machine supports every system feature (kvm, nixos-test,
big-parallel). The simulation is list scheduling (discrete events with `heapq`): whenever slots are free, the
ready derivations run in order of their longest remaining chain to the end (the classic HLFET priority),
each placed on the machine that fits it most tightly; a big-parallel build waits for a whole free machine
while smaller ones overtake it. Inputs that the change does not rebuild are assumed to be in the cache.
Uploads, queueing and evaluation are not counted.

Plain Python and `heapq` do the graph work here: the rebuilt sub-graph is at most a few tens of thousands of
derivations, and a topological pass over it takes well under a second; networkx would add a copy of the
graph for no gain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact.analysis.cost.dag import SubGraph, bottom_levels, critical_path, subgraph
from impact.analysis.cost.farm import (
    ALSO_BUILDS,
    ANY_SYSTEM,
    DEFAULT_CORES,
    DEFAULT_MACHINES,
    Farm,
    Schedule,
    farm_for,
    parse_machines,
    simulate,
)
from impact.analysis.cost.model import (
    BIG_PARALLEL_SECONDS,
    DEFAULT_MODEL,
    DOWNLOAD_SECONDS,
    KVM_SECONDS,
    MEDIAN_MIN_SAMPLES,
    MEDIAN_SECONDS,
    NIXOS_TEST_SECONDS,
    TRIVIAL_NAME,
    TRIVIAL_SECONDS,
    big_parallel,
    model_rule,
)
from impact.analysis.cost.records import DurationMatch, Durations, durations_for, match_durations
from impact.model import DerivationGraph

__all__ = [
    "ALSO_BUILDS",
    "ANY_SYSTEM",
    "BIG_PARALLEL_SECONDS",
    "DEFAULT_CORES",
    "DEFAULT_MACHINES",
    "DEFAULT_MODEL",
    "DOWNLOAD_SECONDS",
    "KVM_SECONDS",
    "MEDIAN_MIN_SAMPLES",
    "MEDIAN_SECONDS",
    "NIXOS_TEST_SECONDS",
    "TRIVIAL_NAME",
    "TRIVIAL_SECONDS",
    "ChangeCost",
    "DurationMatch",
    "Durations",
    "Farm",
    "PathStep",
    "Scenario",
    "Schedule",
    "SubGraph",
    "big_parallel",
    "bottom_levels",
    "change_cost",
    "critical_path",
    "durations_for",
    "farm_for",
    "match_durations",
    "model_rule",
    "parse_machines",
    "simulate",
    "subgraph",
]


@dataclass(frozen=True)
class PathStep:
    """One derivation on the critical path."""

    #: Derivation name.
    name: str
    #: Its system.
    system: str
    #: Seconds it takes.
    seconds: float
    #: Where the seconds come from: `drv`, `job`, `name`, `package` (data) or a model rule.
    source: str
    #: The .drv path.
    drv: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "name": self.name,
            "system": self.system,
            "seconds": round(self.seconds, 1),
            "source": self.source,
            "drv": self.drv,
        }


@dataclass(frozen=True)
class Scenario:
    """The cost of a change under one set of durations."""

    #: System → CPU-hours (duration × cores held, see the module docstring).
    cpu_hours_by_system: Mapping[str, float]
    #: Hours of the longest chain of rebuilt derivations.
    critical_path_hours: float
    #: The derivations on it, first to last.
    critical_path: tuple[PathStep, ...]
    #: Wall-clock hours on the farm (list scheduling).
    farm_hours: float
    #: Machine system → share of the farm's core-time in use.
    utilisation: Mapping[str, float]

    @property
    def cpu_hours(self) -> float:
        """CPU-hours over all systems."""
        return sum(self.cpu_hours_by_system.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "cpu_hours": round(self.cpu_hours, 2),
            "cpu_hours_by_system": {k: round(v, 2) for k, v in self.cpu_hours_by_system.items()},
            "critical_path_hours": round(self.critical_path_hours, 2),
            "critical_path": [s.to_dict() for s in self.critical_path],
            "farm_hours": round(self.farm_hours, 2),
            "farm_utilisation": {k: round(v, 3) for k, v in self.utilisation.items()},
        }


@dataclass(frozen=True)
class ChangeCost:
    """What a change costs: CPU-hours, critical path and farm time, with what is known and what is assumed."""

    #: The change, as the user named it.
    change: str
    #: How many derivations are rebuilt.
    derivations: int
    #: The farm simulated.
    farm: Farm
    #: The answer: durations from data where records match, the default model elsewhere.
    estimate: Scenario
    #: The answer from the default model alone (equal to `estimate` when no records are given).
    model_only: Scenario
    #: CPU-hours of the derivations with a matching record alone: what the data by itself proves.
    data_only_cpu_hours: float
    #: Rebuilt derivations with a matching record.
    known_derivations: int
    #: Share of `estimate`'s CPU-hours that comes from records.
    known_share_of_time: float
    #: How the rebuilt derivations got their durations: `drv`/`job`/`name`/`package` or model rule → count.
    sources: Mapping[str, int]
    #: What the default model assumed for each rule it used: rule → (seconds, meaning).
    model_rules: Mapping[str, tuple[float, str]]
    #: The durations files read (empty: the default model alone).
    duration_files: tuple[str, ...] = ()
    #: Records read, and cached/failed builds ignored.
    records: Mapping[str, int] = field(default_factory=dict)

    @property
    def uses_model(self) -> bool:
        """True when any rebuilt derivation's duration comes from the default model."""
        return self.known_derivations < self.derivations

    @property
    def assumptions(self) -> tuple[str, ...]:
        """The assumptions behind the answer, one sentence each, for every output that shows it."""
        out = [f"{meaning}: {_duration(sec)}" for sec, meaning in self.model_rules.values()] if self.uses_model else []
        out.append("a build holds one core; a big-parallel build holds a whole machine")
        out.append(
            f"farm: {self.farm.describe(systems=False)}; x86_64-linux machines also build i686-linux;"
            " list scheduling, longest chain first"
        )
        out.append("inputs the change does not rebuild are already in the cache")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the answer, the model-only answer, and how much is known from data."""
        return {
            "derivations": self.derivations,
            "farm": self.farm.to_dict(),
            "estimate": self.estimate.to_dict(),
            "model_only": self.model_only.to_dict(),
            "data_only_cpu_hours": round(self.data_only_cpu_hours, 2),
            "known_from_data": {
                "derivations": self.known_derivations,
                "share_of_derivations": round(self.known_derivations / self.derivations, 4)
                if self.derivations
                else 0.0,
                "share_of_time": round(self.known_share_of_time, 4),
            },
            "duration_sources": dict(self.sources),
            "is_estimate": self.uses_model,
            "model": {k: {"seconds": v[0], "meaning": v[1]} for k, v in self.model_rules.items()},
            "assumptions": list(self.assumptions),
            "duration_files": list(self.duration_files),
            "records": dict(self.records),
        }


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _scenario(graph: DerivationGraph, sub: SubGraph, durations: Durations, farm: Farm) -> Scenario:
    cores = np.array([farm.cores if big_parallel(graph, i) else 1 for i in sub.rows.tolist()], dtype=float)
    core_seconds = durations.seconds * cores
    by_system: dict[str, float] = {}
    for i, cs in zip(sub.rows.tolist(), core_seconds.tolist()):
        s = graph.system_of(i)
        by_system[s] = by_system.get(s, 0.0) + cs / 3600
    length, chain = critical_path(sub, durations.seconds)
    steps = tuple(
        PathStep(
            graph.names[i], graph.system_of(i), float(durations.seconds[v]), durations.source[v], graph.drv_paths[i]
        )
        for v, i in ((v, int(sub.rows[v])) for v in chain)
    )
    schedule = simulate(graph, sub, durations.seconds, farm)
    order = sorted(by_system, key=lambda s: (s == "builtin", not s.endswith("-linux"), s != "x86_64-linux", s))
    return Scenario(
        {s: by_system[s] for s in order}, length / 3600, steps, schedule.makespan / 3600, schedule.utilisation
    )


def change_cost(
    graph: DerivationGraph,
    rebuilt: Sequence[int] | np.ndarray,
    *,
    change: str = "",
    match: DurationMatch | None = None,
    machines: int | Mapping[str, int] = DEFAULT_MACHINES,
    cores: int = DEFAULT_CORES,
) -> ChangeCost:
    """The cost of rebuilding the derivation rows `rebuilt`, with records from `match` and the default model."""
    rows = np.unique(np.asarray(rebuilt, dtype=np.int64))
    farm = farm_for((graph.system_of(i) for i in rows.tolist()), machines, cores)
    sub = subgraph(graph, rows)
    with_data = durations_for(graph, rows, match)
    model = durations_for(graph, rows, None) if match is not None else with_data
    estimate = _scenario(graph, sub, with_data, farm)
    model_only = _scenario(graph, sub, model, farm) if match is not None else estimate
    cores_held = np.array([farm.cores if big_parallel(graph, i) else 1 for i in rows.tolist()], dtype=float)
    data_core_seconds = float((with_data.seconds * cores_held)[with_data.from_data].sum())
    total = float((with_data.seconds * cores_held).sum())
    sources: dict[str, int] = {}
    for s in with_data.source:
        sources[s] = sources.get(s, 0) + 1
    rules_used = {k: v for k, v in DEFAULT_MODEL.items() if k in set(model.source)}
    if "median" in rules_used and with_data.median_samples:
        rules_used["median-of-data"] = (
            with_data.median_seconds,
            "derivation without a record (not otherwise classed):"
            f" the median of {with_data.median_samples} matched builds",
        )
    return ChangeCost(
        change=change,
        derivations=int(rows.size),
        farm=farm,
        estimate=estimate,
        model_only=model_only,
        data_only_cpu_hours=data_core_seconds / 3600,
        known_derivations=int(with_data.from_data.sum()),
        known_share_of_time=data_core_seconds / total if total else 0.0,
        sources=dict(sorted(sources.items(), key=lambda kv: -kv[1])),
        model_rules=rules_used,
        duration_files=match.origins if match is not None else (),
        records={
            "records": match.records,
            "cached_ignored": match.cached,
            "failed_ignored": match.failed,
            "untimed_ignored": match.untimed,
        }
        if match is not None
        else {},
    )
