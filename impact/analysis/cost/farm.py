"""The build farm: machines, cores, and a list-scheduling simulation of building the rebuilt derivations.

See `impact.analysis.cost` for the whole model."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis.cost.dag import SubGraph, bottom_levels
from impact.analysis.cost.model import (
    big_parallel,
)
from impact.errors import InputError
from impact.model import DerivationGraph

#: Systems a machine of a given system also builds (Hydra's x86_64-linux builders take i686-linux jobs).
ALSO_BUILDS: Mapping[str, tuple[str, ...]] = {"x86_64-linux": ("i686-linux",)}
#: Machines per system when none are given.
DEFAULT_MACHINES = 10
#: Cores (build slots) per machine when none are given.
DEFAULT_CORES = 8


@dataclass(frozen=True)
class Farm:
    """A build farm: machines per system, each with `cores` build slots."""

    #: System → number of machines of that system.
    machines: Mapping[str, int]
    #: Build slots (cores) per machine.
    cores: int = DEFAULT_CORES

    def machine_system(self, system: str) -> str | None:
        """The system of the machines that build `system`, or None when the farm has none."""
        if self.machines.get(system, 0) > 0:
            return system
        for host, also in ALSO_BUILDS.items():
            if system in also and self.machines.get(host, 0) > 0:
                return host
        return None

    def describe(self, systems: bool = True) -> str:
        """`10 × x86_64-linux, 2 × x86_64-darwin machines, 8 cores each`; without `systems` and with as many
        machines for every system: `10 machines per system, 8 cores each`."""
        counts = set(self.machines.values())
        if not counts:
            return "no machines"
        if not systems and len(counts) == 1:
            return f"{counts.pop()} machines per system, {self.cores} cores each"
        parts = ", ".join(f"{n} × {s}" for s, n in self.machines.items())
        return f"{parts} machines, {self.cores} cores each"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"machines": dict(self.machines), "cores": self.cores}


#: The key of `--machines` pairs that stands for every system not named (`--machines 4 --machines x86_64-darwin=1`).
ANY_SYSTEM = "*"


def farm_for(
    systems: Iterable[str], machines: int | Mapping[str, int] = DEFAULT_MACHINES, cores: int = DEFAULT_CORES
) -> Farm:
    """A farm for derivations of `systems`: `machines` per machine system needed, or the given mapping, where
    `ANY_SYSTEM` gives the count for every needed system not named."""
    if cores < 1:
        raise InputError(f"--cores {cores}: a machine needs at least one core")
    counts = {ANY_SYSTEM: machines} if isinstance(machines, int) else dict(machines)
    bad = {s: n for s, n in counts.items() if n < 1}
    if bad:
        raise InputError(
            f"--machines {', '.join(f'{s}={n}' for s, n in bad.items())}: a farm needs at least one machine per system"
        )
    hosts: dict[str, int] = {s: n for s, n in counts.items() if s != ANY_SYSTEM}
    if ANY_SYSTEM in counts:
        for s in systems:
            if s == "builtin" or Farm(hosts).machine_system(s):
                continue
            host = next((h for h, also in ALSO_BUILDS.items() if s in also), s)
            hosts[host] = counts[ANY_SYSTEM]
    order = sorted(hosts, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))
    return Farm({s: hosts[s] for s in order}, cores)


def parse_machines(specs: Sequence[str]) -> int | dict[str, int]:
    """`--machines` values: a number (that many for every system) and/or `SYSTEM=N` pairs."""
    if not specs:
        return DEFAULT_MACHINES
    if len(specs) == 1 and "=" not in specs[0]:
        specs = [f"{ANY_SYSTEM}={specs[0]}"]
    out: dict[str, int] = {}
    for spec in specs:
        system, _, count = spec.rpartition("=") if "=" in spec else (ANY_SYSTEM, "=", spec)
        try:
            out[system.strip()] = int(count)
        except ValueError:
            raise InputError(
                f"--machines {spec}: expected a number or SYSTEM=N",
                tip="e.g. --machines 10, or --machines x86_64-linux=20 --machines x86_64-darwin=4",
            ) from None
    return out[ANY_SYSTEM] if list(out) == [ANY_SYSTEM] else out


@dataclass(frozen=True)
class Schedule:
    """The outcome of a list-scheduling simulation."""

    #: Wall-clock seconds from the first build's start to the last one's end.
    makespan: float
    #: Local id → start time (seconds).
    start: tuple[float, ...]
    #: Local id → (machine system, machine number), or None for builds on the queue runner (`builtin`).
    machine: tuple[tuple[str, int] | None, ...]
    #: Machine system → busy core-seconds / (machines × cores × makespan).
    utilisation: Mapping[str, float]


def simulate(
    graph: DerivationGraph,
    sub: SubGraph,
    seconds: Sequence[float] | np.ndarray,
    farm: Farm,
) -> Schedule:
    """List-schedule the sub-graph on `farm` (see the module docstring for the model) and return the schedule."""
    w = np.asarray(seconds, dtype=float).tolist()
    n = len(w)
    rows = sub.rows.tolist()
    priority = bottom_levels(sub, w)
    pool: list[str | None] = []
    need: list[int] = []
    for i in rows:
        system = graph.system_of(i)
        host = None if system == "builtin" else farm.machine_system(system)
        if host is None and system != "builtin":
            raise InputError(
                f"the farm has no machine that builds {system} (needed by {graph.names[i]})",
                tip=f"add --machines {system}=N, or give --machines as one number for every system",
            )
        pool.append(host)
        need.append(farm.cores if big_parallel(graph, i) else 1)
    free: dict[str, list[int]] = {s: [farm.cores] * count for s, count in farm.machines.items()}
    free_total = {s: farm.cores * count for s, count in farm.machines.items()}
    busy = dict.fromkeys(farm.machines, 0.0)
    ready: dict[str, list[tuple[float, int]]] = {s: [] for s in farm.machines}
    waiting = [len(x) for x in sub.inputs]
    start = [0.0] * n
    where: list[tuple[str, int] | None] = [None] * n
    events: list[tuple[float, int]] = []
    now = 0.0
    done = 0
    runner: list[int] = []

    def make_ready(v: int) -> None:
        if pool[v] is None:
            runner.append(v)
        else:
            heapq.heappush(ready[pool[v]], (-priority[v], v))  # type: ignore[index]

    def dispatch() -> None:
        while runner:
            v = runner.pop()
            start[v] = now
            heapq.heappush(events, (now + w[v], v))
        for s, queue in ready.items():
            deferred: list[tuple[float, int]] = []
            slots = free[s]
            while queue and free_total[s] > 0:
                item = heapq.heappop(queue)
                v = item[1]
                fits = [m for m, f in enumerate(slots) if f >= need[v]]
                if not fits:
                    deferred.append(item)
                    continue
                m = min(fits, key=lambda m: (slots[m], m))
                slots[m] -= need[v]
                free_total[s] -= need[v]
                busy[s] += need[v] * w[v]
                start[v], where[v] = now, (s, m)
                heapq.heappush(events, (now + w[v], v))
            for item in deferred:
                heapq.heappush(queue, item)

    for v in range(n):
        if waiting[v] == 0:
            make_ready(v)
    dispatch()
    while events:
        now, v = heapq.heappop(events)
        finished = [v]
        while events and events[0][0] == now:
            finished.append(heapq.heappop(events)[1])
        for v in finished:
            done += 1
            if where[v] is not None:
                s, m = where[v]  # type: ignore[misc]
                free[s][m] += need[v]
                free_total[s] += need[v]
            for c in sub.consumers[v]:
                waiting[c] -= 1
                if waiting[c] == 0:
                    make_ready(c)
        dispatch()
    assert done == n, "every derivation is scheduled once its inputs are built"
    makespan = now if n else 0.0
    utilisation = {
        s: (busy[s] / (farm.cores * count * makespan) if makespan else 0.0) for s, count in farm.machines.items()
    }
    return Schedule(makespan, tuple(start), tuple(where), utilisation)
