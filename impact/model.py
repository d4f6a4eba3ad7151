"""The derivation graph: derivations, the outputs each consumer takes from its inputs, and Hydra jobs.

Every loader returns a `DerivationGraph`. It keeps the graph as index-aligned arrays (one row per derivation,
edges in compressed sparse rows) so that a snapshot of all of nixpkgs loads in milliseconds and analyses can
run vectorised; `DerivationGraph.to_networkx()` gives the same graph as a `networkx.DiGraph` for path
queries and for anyone who wants to explore it in a notebook.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from impact.errors import InputError, UnknownNameError

if TYPE_CHECKING:
    import networkx as nx

STORE_DIR = "/nix/store"

_STORE_PATH = re.compile(r"^(?:/nix/store/)?([0-9a-df-np-sv-z]{32})-(.+)$")


def store_path(path: str, store_dir: str = STORE_DIR) -> str:
    """Return `path` as a full store path, adding the store directory newer Nix versions leave out."""
    return path if path.startswith("/") else f"{store_dir}/{path}"


def path_name(path: str) -> str:
    """The name part of a store path: `/nix/store/<hash>-qemu-2.6.0.drv` → `qemu-2.6.0.drv`."""
    base = path.rsplit("/", 1)[-1]
    return base[33:] if len(base) > 33 and base[32] == "-" else base


def csr_edge_ids(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The edge ids of `rows` in a CSR adjacency, concatenated: `indptr[r] .. indptr[r+1]` for each row in turn."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    shift = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return shift + np.arange(int(counts.sum()))


@dataclass(frozen=True, slots=True)
class Derivation:
    """One store derivation (.drv), as `nix show-derivation` describes it."""

    #: The .drv store path.
    path: str
    #: The `name` attribute, e.g. `qemu-2.6.0`.
    name: str
    #: The system it builds on, e.g. `x86_64-linux` (`builtin` for `builtin:fetchurl`).
    system: str
    #: Output name → output store path (`out`, `dev`, `bin`, `man`, …).
    outputs: Mapping[str, str]
    #: True when an output carries a fixed hash (fetchurl and friends): its output paths do not depend on its inputs.
    fixed_output: bool = False
    #: `requiredSystemFeatures`, e.g. `("big-parallel",)` or `("kvm", "nixos-test")`.
    required_system_features: tuple[str, ...] = ()
    #: `preferLocalBuild`: a trivial builder (writeText, runCommand, NixOS units) not worth sending to a builder.
    prefer_local_build: bool = False
    #: Input derivation path → the outputs of it this derivation uses.
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Plain store paths this derivation uses (sources copied into the store, builder scripts).
    input_sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Job:
    """One Hydra job: an attribute for one system, in one jobset, pointing at a derivation."""

    #: The attribute, e.g. `qemu.x86_64-linux` or `tests.nat.standalone.x86_64-linux`.
    attr: str
    #: The system it is built for.
    system: str
    #: The jobset it belongs to: `nixpkgs` or `nixos`.
    jobset: str
    #: The derivation the job builds.
    drv_path: str
    #: The derivation name, e.g. `qemu-2.6.0`.
    name: str = ""
    #: Output name → output path, as the evaluator printed them.
    outputs: Mapping[str, str] = field(default_factory=dict)
    #: `meta.position`, e.g. `pkgs/applications/virtualization/qemu/default.nix:81`.
    position: str | None = None
    #: `meta.maintainers`, as names.
    maintainers: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        """The attribute without its system: `qemu.x86_64-linux` → `qemu`."""
        return job_package(self.attr, self.system)


def job_package(attr: str, system: str) -> str:
    """The attribute of a job without its trailing system."""
    suffix = "." + system
    return attr[: -len(suffix)] if attr.endswith(suffix) else attr


@dataclass(frozen=True, slots=True)
class EvalError:
    """A job whose evaluation failed (a throw or an assert): recorded, as Hydra records it."""

    #: The attribute that failed.
    attr: str
    #: What the evaluator said.
    error: str
    #: The jobset, when known.
    jobset: str = ""


_T = TypeVar("_T")


class LazyColumn(Sequence[_T]):
    """A read-only column of `count` values made one at a time by `item(row)`: what a memory-mapped snapshot
    gives for strings, so that only the rows printed are ever decoded.

    Iterating it (or `list()`, `set()`, `zip()` over it) makes every value once and keeps the list, so whole-graph
    passes cost what a plain list would after the first.
    """

    __slots__ = ("_count", "_item", "_many", "_values")

    def __init__(self, count: int, item: Callable[[int], _T], many: Callable[[], list[_T]] | None = None) -> None:
        self._count = count
        self._item = item
        self._many = many
        self._values: list[_T] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, which: Any) -> Any:
        if self._values is not None:
            return self._values[which]
        if isinstance(which, slice):
            return [self[k] for k in range(*which.indices(self._count))]
        k = int(which)
        if k < 0:
            k += self._count
        if not 0 <= k < self._count:
            raise IndexError("column index out of range")
        return self._item(k)

    def take(self, rows: Sequence[int]) -> list[_T]:
        """The values at `rows`: decoded one by one for a few rows, else by making (and keeping) the whole list."""
        if self._values is None and len(rows) * 8 < self._count:
            return [self._item(int(k)) for k in rows]
        values = self.tolist()
        return [values[k] for k in rows]

    def tolist(self) -> list[_T]:
        """Every value, as a list (made once, then kept)."""
        if self._values is None:
            self._values = self._many() if self._many is not None else [self._item(k) for k in range(self._count)]
        return self._values

    def __iter__(self) -> Iterator[_T]:
        return iter(self.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[_T]) -> list[_T]:
        return self.tolist() + list(other)

    def __repr__(self) -> str:
        return f"<LazyColumn of {self._count}>"


class CodedColumn(LazyColumn[str]):
    """A column of strings drawn from a few `values`, kept as integer `codes` (jobsets, systems of jobs)."""

    __slots__ = ("codes", "values")

    def __init__(self, values: Sequence[str], codes: np.ndarray) -> None:
        self.values = list(values)
        self.codes = codes
        super().__init__(
            int(codes.shape[0]), lambda k: self.values[codes[k]], lambda: [self.values[c] for c in codes.tolist()]
        )


def take(column: Sequence[_T], rows: Sequence[int]) -> list[_T]:
    """`[column[k] for k in rows]`, letting a `LazyColumn` choose how to decode."""
    return column.take(rows) if isinstance(column, LazyColumn) else [column[k] for k in rows]


def coded(column: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(distinct values, code of each row) of a string column; a `CodedColumn` gives its own codes unread.

    Values come in order of first appearance (a snapshot writes its codes that way).
    """
    if isinstance(column, CodedColumn):
        return column.values, column.codes.astype(np.int64)
    values = list(dict.fromkeys(column))
    code = {v: c for c, v in enumerate(values)}
    return values, np.array([code[v] for v in column], dtype=np.int64)


class _Interner:
    """Maps strings to small integers in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def __call__(self, value: str) -> int:
        i = self.index.get(value)
        if i is None:
            i = self.index[value] = len(self.values)
            self.values.append(value)
        return i


class DerivationGraph:
    """Derivations, their input edges (with the outputs consumed) and jobs, as index-aligned arrays.

    Derivation `i` has path `drv_paths[i]`; its inputs are `input_indices[input_indptr[i]:input_indptr[i+1]]`,
    each edge consuming the outputs `output_sets[input_output_set[e]]`. Jobs are rows of the `job_*` arrays,
    `job_drv[k]` being the derivation job `k` builds.
    """

    def __init__(
        self,
        *,
        drv_paths: list[str],
        names: list[str],
        systems: list[str],
        system_ids: np.ndarray,
        fixed_output: np.ndarray,
        prefer_local_build: np.ndarray | None = None,
        output_names: list[tuple[str, ...]],
        output_paths: list[tuple[str, ...]],
        features: Mapping[int, tuple[str, ...]],
        input_indptr: np.ndarray,
        input_indices: np.ndarray,
        input_output_set: np.ndarray,
        output_sets: list[tuple[str, ...]],
        source_paths: list[str],
        source_indptr: np.ndarray,
        source_indices: np.ndarray,
        job_attrs: list[str],
        job_jobsets: list[str],
        job_systems: list[str],
        job_drv: np.ndarray,
        job_names: list[str],
        job_outputs: list[dict[str, str]],
        job_positions: list[str | None],
        job_maintainers: list[tuple[str, ...]],
        eval_errors: Sequence[EvalError] = (),
        origin: str = "",
        meta: Mapping[str, str] | None = None,
        tables: Mapping[str, Any] | None = None,
    ) -> None:
        self.drv_paths = drv_paths
        self.names = names
        self.systems = systems
        self.system_ids = system_ids
        self.fixed_output = fixed_output
        #: `preferLocalBuild` per derivation.
        self.prefer_local_build = (
            prefer_local_build if prefer_local_build is not None else np.zeros(len(drv_paths), dtype=bool)
        )
        self.output_names = output_names
        self.output_paths = output_paths
        self.features = dict(features)
        self.input_indptr = input_indptr
        self.input_indices = input_indices
        self.input_output_set = input_output_set
        self.output_sets = output_sets
        self.source_paths = source_paths
        self.source_indptr = source_indptr
        self.source_indices = source_indices
        self.job_attrs = job_attrs
        self.job_jobsets = job_jobsets
        self.job_systems = job_systems
        self.job_drv = job_drv
        self.job_names = job_names
        self.job_outputs = job_outputs
        self.job_positions = job_positions
        self.job_maintainers = job_maintainers
        self.eval_errors = tuple(eval_errors)
        #: Where the graph was loaded from, for messages.
        self.origin = origin
        #: What the snapshot is (`label`, `branch`, `commit`, `date`), when known.
        self.meta: dict[str, str] = dict(meta or {})
        #: Per-graph tables by name (reverse edges, lookups, job order…): read from a snapshot that stores them,
        #: else built on first use by `derived`. Array-valued ones are written into version-2 snapshots.
        self.tables: dict[str, Any] = dict(tables or {})

    def derived(self, key: str, build: Callable[[DerivationGraph], _T]) -> _T:
        """The per-graph table `key`: the snapshot's stored one when it has it, else `build(self)`, kept."""
        found = self.tables.get(key)
        if found is None:
            found = self.tables[key] = build(self)
        elif isinstance(found, Stored):
            found = self.tables[key] = found.load()
        return found  # type: ignore[no-any-return]

    @property
    def label(self) -> str:
        """A short human name for the snapshot: its `label`, else where it was loaded from."""
        return self.meta.get("label") or self.origin

    # -- building -----------------------------------------------------------------------------------------

    @classmethod
    def from_records(
        cls,
        derivations: Iterable[Derivation],
        jobs: Iterable[Job] = (),
        eval_errors: Sequence[EvalError] = (),
        *,
        origin: str = "",
    ) -> DerivationGraph:
        """Build the graph from parsed derivations and jobs; every input and job must name a known derivation."""
        drvs = list(derivations)
        index = {d.path: i for i, d in enumerate(drvs)}
        if len(index) != len(drvs):
            seen: set[str] = set()
            dup = next(d.path for d in drvs if d.path in seen or seen.add(d.path))  # type: ignore[func-returns-value]
            raise InputError(f"{origin}: derivation {dup} appears twice")
        systems = _Interner()
        out_sets = _Interner()
        sources = _Interner()
        input_indptr = np.zeros(len(drvs) + 1, dtype=np.int64)
        input_indices: list[int] = []
        input_sets: list[int] = []
        source_indptr = np.zeros(len(drvs) + 1, dtype=np.int64)
        source_indices: list[int] = []
        features: dict[int, tuple[str, ...]] = {}
        for i, d in enumerate(drvs):
            for input_path, outs in sorted(d.inputs.items()):
                j = index.get(input_path)
                if j is None:
                    raise InputError(
                        f"{origin}: derivation {d.path} names input {input_path}, which is not in the input",
                        tip="export the whole closure, e.g. `nix show-derivation -r` or `nix derivation show -r`",
                    )
                input_indices.append(j)
                input_sets.append(out_sets(" ".join(sorted(outs))))
            input_indptr[i + 1] = len(input_indices)
            for s in d.input_sources:
                source_indices.append(sources(s))
            source_indptr[i + 1] = len(source_indices)
            if d.required_system_features:
                features[i] = tuple(d.required_system_features)
        job_list = list(jobs)
        job_drv = np.empty(len(job_list), dtype=np.int32)
        for k, job in enumerate(job_list):
            j = index.get(job.drv_path)
            if j is None:
                raise InputError(
                    f"{origin}: job {job.attr} builds {job.drv_path}, which is not among the derivations",
                    tip="give the derivations of every job (`nix show-derivation -r` over all drvPaths)",
                )
            job_drv[k] = j
        names_sorted = [tuple(sorted(d.outputs)) for d in drvs]
        return cls(
            drv_paths=[d.path for d in drvs],
            names=[d.name for d in drvs],
            systems=systems.values,
            system_ids=np.array([systems(d.system) for d in drvs], dtype=np.int16),
            fixed_output=np.array([d.fixed_output for d in drvs], dtype=bool),
            prefer_local_build=np.array([d.prefer_local_build for d in drvs], dtype=bool),
            output_names=names_sorted,
            output_paths=[tuple(d.outputs[o] for o in names) for d, names in zip(drvs, names_sorted)],
            features=features,
            input_indptr=input_indptr,
            input_indices=np.array(input_indices, dtype=np.int32),
            input_output_set=np.array(input_sets, dtype=np.int32),
            output_sets=[tuple(s.split()) for s in out_sets.values],
            source_paths=sources.values,
            source_indptr=source_indptr,
            source_indices=np.array(source_indices, dtype=np.int32),
            job_attrs=[j.attr for j in job_list],
            job_jobsets=[j.jobset for j in job_list],
            job_systems=[j.system for j in job_list],
            job_drv=job_drv,
            job_names=[j.name for j in job_list],
            job_outputs=[dict(j.outputs) for j in job_list],
            job_positions=[j.position for j in job_list],
            job_maintainers=[tuple(j.maintainers) for j in job_list],
            eval_errors=eval_errors,
            origin=origin,
        )

    # -- sizes and lookups --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.drv_paths)

    def __repr__(self) -> str:
        where = self.origin or "?"
        return (
            f"<DerivationGraph {len(self)} derivations, {self.edge_count} inputs, {self.job_count} jobs from {where}>"
        )

    @property
    def edge_count(self) -> int:
        """How many (consumer, input derivation) edges there are."""
        return int(self.input_indices.shape[0])

    @property
    def job_count(self) -> int:
        """How many jobs there are."""
        return len(self.job_attrs)

    @functools.cached_property
    def index(self) -> Mapping[str, int]:
        """Derivation path → row (a snapshot may give a lookup that searches its sorted hashes instead of a dict)."""
        return self.derived("index", lambda g: {p: i for i, p in enumerate(g.drv_paths)})

    @functools.cached_property
    def job_index(self) -> Mapping[tuple[str, str], int]:
        """(jobset, attr) → job row."""
        return self.derived(
            "job_index", lambda g: {(js, a): k for k, (js, a) in enumerate(zip(g.job_jobsets, g.job_attrs))}
        )

    def jobs_with_attr(self, attr: str) -> list[int]:
        """Rows of the jobs whose attribute is `attr` (one per jobset at most), in row order."""
        lookup = self.derived("jobs_by_attr", _jobs_by_attr)
        return list(lookup.get(attr, ()))

    def jobs_of_package(self, package: str) -> list[int]:
        """Rows of the jobs whose attribute without its system is `package`, in row order."""
        lookup = self.derived("jobs_by_package", _jobs_by_package)
        return list(lookup.get(package, ()))

    @functools.cached_property
    def job_packages(self) -> list[str]:
        """Each job's attribute without its system (`qemu.x86_64-linux` → `qemu`)."""
        suffixes = {s: "." + s for s in set(self.job_systems)}
        return [
            a[: -len(suffix)] if a.endswith(suffix := suffixes[s]) else a
            for a, s in zip(self.job_attrs, self.job_systems)
        ]

    @property
    def jobsets(self) -> list[str]:
        """The jobsets present, in order of first appearance."""
        return coded(self.job_jobsets)[0]

    def derivation_index(self, path: str) -> int:
        """The row of a derivation given by path (with or without `/nix/store/`)."""
        i = self.index.get(store_path(path))
        if i is None:
            raise UnknownNameError(f"derivation {path} is not in the snapshot {self.origin}")
        return i

    def derivation(self, which: int | str) -> Derivation:
        """The derivation at a row or path, as a `Derivation` record."""
        i = which if isinstance(which, int) else self.derivation_index(which)
        lo, hi = self.input_indptr[i], self.input_indptr[i + 1]
        s_lo, s_hi = self.source_indptr[i], self.source_indptr[i + 1]
        return Derivation(
            path=self.drv_paths[i],
            name=self.names[i],
            system=self.systems[self.system_ids[i]],
            outputs=dict(zip(self.output_names[i], self.output_paths[i])),
            fixed_output=bool(self.fixed_output[i]),
            required_system_features=self.features.get(i, ()),
            prefer_local_build=bool(self.prefer_local_build[i]),
            inputs={
                self.drv_paths[j]: self.output_sets[s]
                for j, s in zip(self.input_indices[lo:hi].tolist(), self.input_output_set[lo:hi].tolist())
            },
            input_sources=tuple(self.source_paths[s] for s in self.source_indices[s_lo:s_hi].tolist()),
        )

    def job(self, k: int) -> Job:
        """Job row `k` as a `Job` record."""
        return Job(
            attr=self.job_attrs[k],
            system=self.job_systems[k],
            jobset=self.job_jobsets[k],
            drv_path=self.drv_paths[self.job_drv[k]],
            name=self.job_names[k],
            outputs=self.job_outputs[k],
            position=self.job_positions[k],
            maintainers=self.job_maintainers[k],
        )

    def system_of(self, i: int) -> str:
        """The system of derivation row `i`."""
        return self.systems[self.system_ids[i]]

    def inputs_of(self, i: int) -> list[tuple[int, tuple[str, ...]]]:
        """(input row, outputs consumed) for each input of derivation row `i`."""
        lo, hi = self.input_indptr[i], self.input_indptr[i + 1]
        return [
            (j, self.output_sets[s])
            for j, s in zip(self.input_indices[lo:hi].tolist(), self.input_output_set[lo:hi].tolist())
        ]

    def sources_of(self, i: int) -> list[str]:
        """The plain store paths (`inputSrcs`) of derivation row `i`."""
        lo, hi = self.source_indptr[i], self.source_indptr[i + 1]
        return [self.source_paths[s] for s in self.source_indices[lo:hi].tolist()]

    # -- derived structure --------------------------------------------------------------------------------

    @property
    def consumer_indptr_indices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reverse edges in CSR form: for input row `j`, its consumers and the edge ids (into `input_*`)."""
        return self.derived("consumers", consumer_csr)

    def consumers_of(self, j: int) -> list[tuple[int, tuple[str, ...]]]:
        """(consumer row, outputs it takes) for every derivation that uses derivation row `j`."""
        indptr, consumers, edges = self.consumer_indptr_indices
        lo, hi = indptr[j], indptr[j + 1]
        return [
            (c, self.output_sets[self.input_output_set[e]])
            for c, e in zip(consumers[lo:hi].tolist(), edges[lo:hi].tolist())
        ]

    @property
    def propagation_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """The edges a change travels along (input → consumer) in CSR form (indptr, consumer rows), without the
        edges into fixed-output derivations: Nix computes output paths modulo them, so a change stops there."""
        return self.derived("propagation", propagation_csr)

    @functools.cached_property
    def jobs_of_derivation(self) -> dict[int, list[int]]:
        """Derivation row → the job rows that build it."""
        out: dict[int, list[int]] = {}
        for k, i in enumerate(self.job_drv.tolist()):
            out.setdefault(i, []).append(k)
        return out

    def to_networkx(self) -> nx.DiGraph:
        """The graph as a networkx DiGraph: nodes are drv paths, edges run input → consumer with `outputs`."""
        import networkx as nx

        g = nx.DiGraph()
        for i, p in enumerate(self.drv_paths):
            g.add_node(
                p,
                name=self.names[i],
                system=self.system_of(i),
                fixed_output=bool(self.fixed_output[i]),
                outputs=dict(zip(self.output_names[i], self.output_paths[i])),
            )
        consumers = np.repeat(np.arange(len(self), dtype=np.int32), np.diff(self.input_indptr))
        g.add_edges_from(
            (self.drv_paths[j], self.drv_paths[c], {"outputs": self.output_sets[s]})
            for j, c, s in zip(self.input_indices.tolist(), consumers.tolist(), self.input_output_set.tolist())
        )
        return g

    def same_as(self, other: DerivationGraph) -> bool:
        """True when both graphs hold the same derivations, edges (with outputs) and jobs, whatever the row order."""
        if set(self.drv_paths) != set(other.drv_paths):
            return False
        if any(self.derivation(p) != other.derivation(p) for p in self.drv_paths):
            return False
        mine = sorted(map(repr, (self.job(k) for k in range(self.job_count))))
        theirs = sorted(map(repr, (other.job(k) for k in range(other.job_count))))
        return mine == theirs


#: Per-graph tables worth storing in a snapshot: name → builder. The model registers its own below; analysis
#: modules register theirs when imported (`register_table`), and snapshot writers build and store them all.
TABLE_BUILDERS: dict[str, Callable[[DerivationGraph], Any]] = {}


def register_table(key: str, build: Callable[[DerivationGraph], Any]) -> None:
    """Declare a per-graph table (`graph.derived(key, build)`) that snapshot writers should build and store."""
    TABLE_BUILDERS[key] = build


def consumer_csr(graph: DerivationGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reverse edges in CSR form (indptr, consumer rows, edge ids), built from the input edges."""
    n = len(graph)
    consumers = np.repeat(np.arange(n, dtype=np.int32), np.diff(graph.input_indptr))
    order = np.argsort(graph.input_indices, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(graph.input_indices, minlength=n), out=indptr[1:])
    return indptr, consumers[order], order.astype(np.int64)


def propagation_csr(graph: DerivationGraph) -> tuple[np.ndarray, np.ndarray]:
    """Input → consumer edges in CSR form, without the edges into fixed-output derivations."""
    indptr, consumers, _ = graph.consumer_indptr_indices
    keep = ~graph.fixed_output[consumers]
    input_of_edge = np.repeat(np.arange(len(graph), dtype=np.int64), np.diff(indptr))
    new_indptr = np.zeros_like(indptr)
    np.cumsum(np.bincount(input_of_edge[keep], minlength=len(graph)), out=new_indptr[1:])
    return new_indptr, consumers[keep].astype(np.int32)


def job_order(graph: DerivationGraph) -> np.ndarray:
    """Job rows sorted by (jobset code, attribute): a selection of jobs comes out grouped and sorted."""
    jobset = coded(graph.job_jobsets)[1].tolist()
    attrs = list(graph.job_attrs)
    return np.array(sorted(range(graph.job_count), key=lambda k: (jobset[k], attrs[k])), dtype=np.int64)


def _group(keys: Iterable[str]) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for k, key in enumerate(keys):
        found.setdefault(key, []).append(k)
    return {key: tuple(rows) for key, rows in found.items()}


def _jobs_by_attr(graph: DerivationGraph) -> Mapping[str, Sequence[int]]:
    return _group(graph.job_attrs)


def _jobs_by_package(graph: DerivationGraph) -> Mapping[str, Sequence[int]]:
    return _group(graph.job_packages)


class Stored:
    """A per-graph table as a snapshot stores it: `load()` checks it against the graph and returns its value.

    The check runs once, on first use, so opening a snapshot reads nothing it does not need.
    """

    __slots__ = ("_load",)

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load

    def load(self) -> Any:
        """The table's value, checked (raises `InputError` when the snapshot's table is inconsistent)."""
        return self._load()


register_table("consumers", consumer_csr)
register_table("propagation", propagation_csr)
register_table("job_order", job_order)
