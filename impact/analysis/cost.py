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

import heapq
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact.analysis.change import package_name
from impact.errors import InputError
from impact.loaders.durations import DurationFile, DurationRecord
from impact.model import DerivationGraph, csr_edge_ids, path_name

# -- the default model ---------------------------------------------------------------------------------------

#: A fixed-output derivation (fetchurl, fetchgit …) downloads: a minute, whatever its size.
DOWNLOAD_SECONDS = 60.0
#: A trivial builder (runCommand, writeText, wrappers, NixOS units and configuration files, anything with
#: `preferLocalBuild`): copies or writes a few files in seconds; 10 s covers the sandbox set-up.
TRIVIAL_SECONDS = 10.0
#: A `big-parallel` build (Linux kernels, Firefox, Thunderbird, Chromium): an hour on a big machine.
BIG_PARALLEL_SECONDS = 3600.0
#: A NixOS VM test (`kvm` + `nixos-test`): boots one or more VMs and runs a script, typically 5–20 minutes.
NIXOS_TEST_SECONDS = 900.0
#: Another `kvm` build (disk images, VirtualBox appliances): builds an image in a VM, about 20 minutes.
KVM_SECONDS = 1200.0
#: Everything else: an ordinary package build (configure, make, install, fixup), assumed to take 5 minutes,
#: the order of magnitude of a median nixpkgs build on Hydra; when build records are given and match at
#: least `MEDIAN_MIN_SAMPLES` ordinary derivations, their median is used instead.
MEDIAN_SECONDS = 300.0
#: How many matched ordinary builds it takes to use their median instead of `MEDIAN_SECONDS`.
MEDIAN_MIN_SAMPLES = 20

#: Derivation names of trivial builders, for those that do not set `preferLocalBuild` (the first test): NixOS
#: units and generated files (`unit-*.service`, `etc-*`, `*.conf`), compiler wrappers, setup hooks, stdenvs
#: (a setup script), the NixOS test drivers, system and VM scripts, which only link or write other store paths.
TRIVIAL_NAME = re.compile(
    r"""^(?:unit-.*|etc(?:-.*)?|system-units|user-units|network-units|system-path|reginfo|stage-\d.*|
        nixos-system-.*|run-.*-vm|nixos-vm|setupHook\.sh|users-groups\.json|set-environment|local-cmds|
        firewall-(?:start|reload)|udev-rules|dbus-conf|desktops|xsession|initrd-fsinfo|hook|stdenv(?:-.*)?|
        nixos-test-driver-.*|
        .*-wrapper(?:-[0-9].*)?|.*\.(?:sh|conf|json|service|socket|timer|target|cfg|sed|pam|nix|rules|xml|ini|
        desktop|txt|pl|py|patch|el))$""",
    re.VERBOSE,
)

#: Model rules: key → (seconds, what it means). Shown with every answer that uses them.
DEFAULT_MODEL: Mapping[str, tuple[float, str]] = {
    "download": (DOWNLOAD_SECONDS, "fixed-output derivation (a download)"),
    "trivial": (
        TRIVIAL_SECONDS,
        "trivial builder (preferLocalBuild, or by name: NixOS unit/config file, wrapper, script)",
    ),
    "big-parallel": (BIG_PARALLEL_SECONDS, "requiredSystemFeatures big-parallel (kernels, browsers)"),
    "nixos-test": (NIXOS_TEST_SECONDS, "NixOS VM test (kvm, nixos-test)"),
    "kvm": (KVM_SECONDS, "other kvm build (VM disk images)"),
    "median": (MEDIAN_SECONDS, "any other derivation: an assumed median package build"),
    "builtin": (DOWNLOAD_SECONDS, "builtin:fetchurl, run by the queue runner"),
}


def model_rule(graph: DerivationGraph, i: int) -> str:
    """Which rule of the default model applies to derivation row `i`."""
    features = graph.features.get(i, ())
    if graph.system_of(i) == "builtin":
        return "builtin"
    if graph.fixed_output[i]:
        return "download"
    if "big-parallel" in features:
        return "big-parallel"
    if "nixos-test" in features:
        return "nixos-test"
    if "kvm" in features:
        return "kvm"
    if graph.prefer_local_build[i] or TRIVIAL_NAME.match(graph.names[i]):
        return "trivial"
    return "median"


def big_parallel(graph: DerivationGraph, i: int) -> bool:
    """True when derivation row `i` needs a whole machine (`requiredSystemFeatures` has big-parallel)."""
    return "big-parallel" in graph.features.get(i, ())


# -- matching build records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DurationMatch:
    """Build records indexed for lookup by derivation: by drv path, job, name and system, package and system."""

    by_drv: Mapping[str, DurationRecord]
    by_job: Mapping[str, DurationRecord]
    by_name: Mapping[tuple[str, str], DurationRecord]
    by_package: Mapping[tuple[str, str], DurationRecord]
    #: Usable records read.
    records: int = 0
    #: Zero-duration (cached) builds ignored.
    cached: int = 0
    #: Failed or unfinished builds ignored.
    failed: int = 0
    #: Results without times ignored.
    untimed: int = 0
    #: The files read.
    origins: tuple[str, ...] = ()

    def find(self, graph: DerivationGraph, i: int) -> tuple[DurationRecord, str] | None:
        """The record for derivation row `i` and how it matched (`drv`, `job`, `name`, `package`), or None."""
        rec = self.by_drv.get(graph.drv_paths[i])
        if rec is not None:
            return rec, "drv"
        jobs = graph.jobs_of_derivation.get(i, ())
        found = [self.by_job[graph.job_attrs[k]] for k in jobs if graph.job_attrs[k] in self.by_job]
        if found:
            return max(found, key=lambda r: r.timestamp), "job"
        system = graph.system_of(i)
        rec = self.by_name.get((graph.names[i], system))
        if rec is not None:
            return rec, "name"
        rec = self.by_package.get((package_name(graph.names[i]), system))
        if rec is not None:
            return rec, "package"
        return None


def _record_name(record: DurationRecord) -> str | None:
    if record.drv_path:
        return path_name(record.drv_path).removesuffix(".drv")
    return None


def match_durations(files: Iterable[DurationFile]) -> DurationMatch:
    """Index the records of `files` for matching, the newest record first for every key."""
    files = list(files)
    records = sorted((r for f in files for r in f.records), key=lambda r: -r.timestamp)
    by_drv: dict[str, DurationRecord] = {}
    by_job: dict[str, DurationRecord] = {}
    by_name: dict[tuple[str, str], DurationRecord] = {}
    by_package: dict[tuple[str, str], DurationRecord] = {}
    for r in records:
        if r.drv_path:
            by_drv.setdefault(r.drv_path, r)
        if r.job:
            by_job.setdefault(r.job, r)
        name = _record_name(r)
        if name and r.system:
            by_name.setdefault((name, r.system), r)
            by_package.setdefault((package_name(name), r.system), r)
    return DurationMatch(
        by_drv=by_drv,
        by_job=by_job,
        by_name=by_name,
        by_package=by_package,
        records=len(records),
        cached=sum(f.cached for f in files),
        failed=sum(f.failed for f in files),
        untimed=sum(f.untimed for f in files),
        origins=tuple(f.origin for f in files),
    )


@dataclass(frozen=True)
class Durations:
    """Seconds for each of some derivation rows, and where each number comes from."""

    #: The derivation rows.
    rows: np.ndarray
    #: Seconds, aligned with `rows`.
    seconds: np.ndarray
    #: True where the seconds come from a build record.
    from_data: np.ndarray
    #: For each row: `drv`, `job`, `name`, `package` (matched) or a model rule key.
    source: tuple[str, ...]
    #: The seconds the `median` rule used (`MEDIAN_SECONDS`, or the median of matched ordinary builds).
    median_seconds: float = MEDIAN_SECONDS
    #: How many matched builds that median came from (0: the constant).
    median_samples: int = 0


def durations_for(
    graph: DerivationGraph, rows: Sequence[int] | np.ndarray, match: DurationMatch | None = None
) -> Durations:
    """Durations of `rows`: from `match` where a record matches, else from the default model."""
    rows = np.asarray(rows, dtype=np.int64)
    seconds = np.zeros(rows.size)
    from_data = np.zeros(rows.size, dtype=bool)
    source: list[str] = []
    pending: list[int] = []
    ordinary_data: list[float] = []
    for n, i in enumerate(rows.tolist()):
        rule = model_rule(graph, i)
        found = match.find(graph, i) if match is not None else None
        if found is not None:
            seconds[n], from_data[n] = found[0].seconds, True
            source.append(found[1])
            if rule == "median":
                ordinary_data.append(found[0].seconds)
        else:
            seconds[n] = DEFAULT_MODEL[rule][0]
            source.append(rule)
            if rule == "median":
                pending.append(n)
    median, samples = MEDIAN_SECONDS, 0
    if len(ordinary_data) >= MEDIAN_MIN_SAMPLES:
        median, samples = float(statistics.median(ordinary_data)), len(ordinary_data)
        seconds[pending] = median
    return Durations(rows, seconds, from_data, tuple(source), median, samples)


# -- the rebuilt sub-graph ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubGraph:
    """The rebuilt derivations as a DAG in local numbering (0..n-1, in the order of `rows`)."""

    rows: np.ndarray
    #: Local ids in topological order (inputs before consumers).
    order: tuple[int, ...]
    #: Local id → local ids of its rebuilt inputs.
    inputs: tuple[tuple[int, ...], ...]
    #: Local id → local ids of its rebuilt consumers.
    consumers: tuple[tuple[int, ...], ...]


def subgraph(graph: DerivationGraph, rows: Sequence[int] | np.ndarray) -> SubGraph:
    """The sub-graph of `rows` with the input edges among them, topologically ordered."""
    rows = np.asarray(rows, dtype=np.int64)
    n = rows.size
    local = np.full(len(graph), -1, dtype=np.int64)
    local[rows] = np.arange(n)
    counts = (graph.input_indptr[rows + 1] - graph.input_indptr[rows]).astype(np.int64)
    if counts.sum():
        edge_ids = csr_edge_ids(graph.input_indptr, rows)
        src = local[graph.input_indices[edge_ids]]
        dst = np.repeat(np.arange(n), counts)
        keep = src >= 0
        edges = list(zip(src[keep].tolist(), dst[keep].tolist()))
    else:
        edges = []
    ins: list[list[int]] = [[] for _ in range(n)]
    outs: list[list[int]] = [[] for _ in range(n)]
    for s, d in edges:
        ins[d].append(s)
        outs[s].append(d)
    indegree = [len(x) for x in ins]
    queue = [v for v in range(n) if indegree[v] == 0]
    order: list[int] = []
    while queue:
        v = queue.pop()
        order.append(v)
        for c in outs[v]:
            indegree[c] -= 1
            if indegree[c] == 0:
                queue.append(c)
    if len(order) != n:
        raise InputError("the rebuilt derivations form a cycle", tip="the snapshot is corrupt; load it again")
    return SubGraph(rows, tuple(order), tuple(map(tuple, ins)), tuple(map(tuple, outs)))


def critical_path(sub: SubGraph, seconds: Sequence[float] | np.ndarray) -> tuple[float, tuple[int, ...]]:
    """The longest chain of rebuilt derivations by total duration: (seconds, local ids from first to last).

    No farm finishes sooner: each derivation on the chain waits for the one before.
    """
    w = np.asarray(seconds, dtype=float).tolist()
    finish = [0.0] * len(w)
    before = [-1] * len(w)
    for v in sub.order:
        best, arg = 0.0, -1
        for u in sub.inputs[v]:
            if finish[u] > best:
                best, arg = finish[u], u
        finish[v] = best + w[v]
        before[v] = arg
    if not w:
        return 0.0, ()
    end = max(range(len(w)), key=lambda v: (finish[v], -v))
    chain = [end]
    while before[chain[-1]] >= 0:
        chain.append(before[chain[-1]])
    return finish[end], tuple(reversed(chain))


def bottom_levels(sub: SubGraph, seconds: Sequence[float] | np.ndarray) -> list[float]:
    """For each local id: its duration plus the longest chain of consumers after it."""
    w = np.asarray(seconds, dtype=float).tolist()
    level = [0.0] * len(w)
    for v in reversed(sub.order):
        level[v] = w[v] + max((level[c] for c in sub.consumers[v]), default=0.0)
    return level


# -- the build farm -------------------------------------------------------------------------------------------

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


# -- the cost of a change -------------------------------------------------------------------------------------


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
            f"farm: {self.farm.describe(systems=False)}; x86_64-linux machines also build i686-linux; list scheduling, longest chain first"
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
            f"derivation without a record (not otherwise classed): the median of {with_data.median_samples} matched builds",
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
