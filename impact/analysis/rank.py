"""Every package ranked by what a change to it would rebuild.

Semantics are those of `impact estimate NAME`, for every package at once: a package is a job attribute
without its system (`qemu` for `qemu.x86_64-linux`) in one jobset (`nixpkgs` by default: the NixOS jobset
holds tests and system closures, not packages one edits by name, so its jobs are counted as rebuilt but not
ranked). Its roots are what `resolve_change(graph, names=[package], commit=False)` gives: the attribute's
derivation on every system plus the variants built from the same source. The derivations that embed the
nixpkgs source tree change on every commit whatever it touches; that share is left out of every row
(`commit=False`), so rows compare packages, not commits.

Method: exact, by bitset propagation. Each package gets one bit; a root derivation starts with its
packages' bits set, and in topological order every derivation ORs in the bits of its inputs over the edges
that pass a change on (`propagation_csr`: no edges into fixed-output derivations). A derivation then holds
the bit of every package whose change rebuilds it, so a package's derivations to build is the count of its
bit over all derivations and its changed jobs the count over the jobs' derivations. A package with several
roots (variants, several systems) has one bit set on all of them, so its closure is the union of theirs,
not a sum.

Cost: O(E · P / 64) word operations for E propagation edges and P packages, done level by level in numpy
(each batch of consumers gathers its inputs' rows by position within the runs of edges and ORs them, writing
one contiguous block of rows), plus O(N · P / 8) bytes unpacked to count. Counting unpacks each derivation's
row once: a derivation's weight in every target (all derivations, the jobs, the NixOS jobs, each kernel's
jobs) is a small vector, and rows of one vector are counted together. Memory is bounded by doing P in column
chunks: a chunk of W 64-bit words costs 8 · W · (N + the widest batch of edges) bytes. Each chunk only walks
the derivations its roots can reach, and packages are ordered by an estimate of their closure (consumers
within two steps) so that packages with small closures share chunks and walk little; a package whose roots
have no consumers rebuilds its roots alone and is counted without bitsets. On the 2016 master snapshot (50,775
derivations, 354,361 inputs, 6,701 packages) the whole ranking fits in one chunk of about 40 MB; on a
1,000,000-derivation synthetic graph (75,349 packages) it takes 12 chunks of at most 1 GB (see
docs/performance.md). Bitsets rather than one breadth-first search per package: a search per package costs
O(P · E) in the worst case and P calls of setup; the bitsets touch each edge once per 64 packages. The
topological levels and every `nixpkgs` package's roots are per-graph tables (`levels_table`,
`package_roots_table`) that a version-2 snapshot stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis.change import package_name, variants_of
from impact.analysis.rebuild import propagation_csr
from impact.errors import InputError
from impact.model import DerivationGraph, coded, csr_edge_ids, job_package, register_table, take

#: The kernels jobs are counted by: a system `x86_64-linux` has kernel `linux`.
KERNELS = ("linux", "darwin")
#: Memory the propagation may use for its bitsets, in bytes (the chunk width follows from it).
DEFAULT_MEMORY = 1 << 30

#: The jobset whose package roots snapshots store (the one `impact rank` ranks by default).
STORED_JOBSET = "nixpkgs"


def kernel_of(system: str) -> str:
    """The kernel part of a system: `x86_64-linux` → `linux`, `x86_64-darwin` → `darwin`."""
    return system.rsplit("-", 1)[-1]


@dataclass(frozen=True, slots=True)
class RankRow:
    """What a change to one package rebuilds (the every-commit source-tree share left out)."""

    #: The package: a job attribute without its system, e.g. `qemu`.
    package: str
    #: Changed jobs on Linux systems, both jobsets.
    jobs_linux: int
    #: Changed jobs on Darwin systems, both jobsets.
    jobs_darwin: int
    #: Changed jobs over every jobset and system.
    jobs_total: int
    #: Of `jobs_total`, the jobs of the `nixos` jobset (VM tests, closures).
    nixos_jobs: int
    #: Derivations that get new output paths: what Hydra would build.
    derivations_to_build: int
    #: How many root derivations the package has (its attribute on each system, plus variants).
    roots: int
    #: Other attributes that are the same derivation (`perl522` for `perl`), or whose change is the same.
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The package with its aliases, e.g. `bison (bison3, yacc)`."""
        return f"{self.package} ({', '.join(self.aliases)})" if self.aliases else self.package

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the row."""
        return {
            "package": self.package,
            "jobs_linux": self.jobs_linux,
            "jobs_darwin": self.jobs_darwin,
            "jobs_total": self.jobs_total,
            "nixos_jobs": self.nixos_jobs,
            "derivations_to_build": self.derivations_to_build,
            "roots": self.roots,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class Ranking:
    """Every package of a jobset ranked by what a change to it rebuilds, most first."""

    #: The jobset whose packages are ranked.
    jobset: str
    #: The kernel rows are sorted by (`linux`, `darwin`), or None for all jobs.
    kernel: str | None
    #: The rows, sorted by changed jobs (of `kernel`, else total), then derivations to build, then name.
    rows: tuple[RankRow, ...]
    #: Jobs in the snapshot per kernel and `total`, for context ("of 15,221").
    jobs_in_snapshot: Mapping[str, int]
    #: Derivations in the snapshot.
    derivations_in_snapshot: int
    #: What the rows leave out, in words.
    excluded: str

    @property
    def sort_key(self) -> str:
        """The RankRow field rows are sorted by."""
        return f"jobs_{self.kernel}" if self.kernel else "jobs_total"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape `impact rank --json` prints)."""
        return {
            "jobset": self.jobset,
            "kernel": self.kernel,
            "sorted_by": [self.sort_key, "derivations_to_build", "package"],
            "excluded": self.excluded,
            "jobs_in_snapshot": dict(self.jobs_in_snapshot),
            "derivations_in_snapshot": self.derivations_in_snapshot,
            "packages": len(self.rows),
            "rows": [r.to_dict() for r in self.rows],
        }


EXCLUDED = (
    "the derivations that embed the nixpkgs source tree (they change on every commit) are not counted "
    "as roots; `impact estimate NAME` adds them"
)


def package_roots(graph: DerivationGraph, jobset: str = "nixpkgs") -> dict[str, np.ndarray]:
    """Package → sorted root rows, as `resolve_change(graph, names=[package], commit=False)` finds them.

    A package is the attribute of a job of `jobset` without its system. As in `resolve_change`, a name
    that is a whole job attribute of its own means that job alone; otherwise every job (of any jobset)
    whose attribute is the name plus a system. For the `nixpkgs` jobset a snapshot may store them.
    """
    if jobset == STORED_JOBSET:
        first_job, indptr, rows = graph.derived("package_roots", package_roots_table)
    else:
        first_job, indptr, rows = _package_roots_table(graph, jobset)
    packages = _job_packages(graph, first_job)
    return {p: rows[lo:hi] for p, lo, hi in zip(packages, indptr[:-1].tolist(), indptr[1:].tolist())}


def _job_packages(graph: DerivationGraph, jobs: np.ndarray) -> list[str]:
    """The package (attribute without its system) of each of `jobs`, made for those jobs only."""
    rows = jobs.tolist()
    systems, codes = coded(graph.job_systems)
    return [job_package(a, systems[c]) for a, c in zip(take(graph.job_attrs, rows), codes[jobs].tolist())]


def package_roots_table(graph: DerivationGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`package_roots` of the `nixpkgs` jobset as arrays (stored in snapshots): a job row naming each package
    (packages sorted by name), and the roots of each as CSR (indptr, rows)."""
    return _package_roots_table(graph, STORED_JOBSET)


def _package_roots_table(graph: DerivationGraph, jobset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    by_attr: dict[str, list[int]] = {}
    by_package: dict[str, list[int]] = {}
    first: dict[str, int] = {}
    for k, (attr, package, js) in enumerate(zip(graph.job_attrs, graph.job_packages, graph.job_jobsets)):
        by_attr.setdefault(attr, []).append(k)
        by_package.setdefault(package, []).append(k)
        if js == jobset:
            first.setdefault(package, k)
    job_drv = graph.job_drv.tolist()
    names = list(graph.names)  # every name once, rather than one lookup per variant
    first_job, indptr, rows = [], [0], []
    for package in sorted(first):
        named = [job_drv[k] for k in by_attr.get(package) or by_package[package]]
        found = set(named)
        found.update(variants_of(graph, named, names=names, reasons=False))
        first_job.append(first[package])
        rows.extend(sorted(found))
        indptr.append(len(rows))
    return (
        np.array(first_job, dtype=np.int64),
        np.array(indptr, dtype=np.int64),
        np.array(rows, dtype=np.int64),
    )


def alias_groups(
    graph: DerivationGraph, roots: Mapping[str, np.ndarray], jobset: str = "nixpkgs"
) -> list[tuple[str, tuple[str, ...]]]:
    """Packages grouped when they are one change: their jobs share a derivation, or their roots are the same.

    Returns (package, aliases) pairs, in the order of each group's first package in `roots`; the package is the
    name its derivation carries (`bison` for `bison-3.0.4`), else the shortest. Aliases such as `perl522 = perl`
    or `yacc = bison` then take one row.
    """
    packages = list(roots)
    group = _alias_components(graph, packages, [roots[p] for p in packages], jobset)
    # `group` is the first member of each package's group, so groups come out in order of their first member.
    size = np.bincount(group, minlength=len(packages))
    out: list[tuple[str, tuple[str, ...]]] = [(p, ()) for p in packages]
    shared = np.flatnonzero(size[group] > 1)
    members: dict[int, list[str]] = {}
    for i, g in zip(shared.tolist(), group[shared].tolist()):
        members.setdefault(g, []).append(packages[i])
    for g, names in members.items():
        own_name = {p: package_name(graph.names[int(roots[p][0])]) if roots[p].size else "" for p in names}
        primary = min(names, key=lambda p: (p != own_name[p], len(p), p))
        out[g] = (primary, tuple(sorted(m for m in names if m != primary)))
    return [out[i] for i in np.flatnonzero(group == np.arange(len(packages))).tolist()]


def _alias_components(
    graph: DerivationGraph, packages: list[str], root_sets: list[np.ndarray], jobset: str
) -> np.ndarray:
    """For each package, the index of the first package of its alias group (connected by equal root sets or by
    jobs of `jobset` on one derivation)."""
    count = len(packages)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    same_roots: dict[bytes, int] = {}
    roots_key = np.array([same_roots.setdefault(r.tobytes(), len(same_roots)) for r in root_sets], dtype=np.int64)
    index = {p: i for i, p in enumerate(packages)}
    jobsets_values, jobset_codes = coded(graph.job_jobsets)
    in_jobset = jobset_codes == (jobsets_values.index(jobset) if jobset in jobsets_values else -1)
    job_rows = np.flatnonzero(in_jobset)
    # Only jobs whose derivation another job of the jobset shares can join packages: name those alone.
    drv = graph.job_drv[job_rows]
    by_drv = np.argsort(drv, kind="stable")
    same = drv[by_drv][1:] == drv[by_drv][:-1]
    shared = np.zeros(job_rows.size, dtype=bool)
    shared[by_drv[1:][same]] = True
    shared[by_drv[:-1][same]] = True
    job_rows = job_rows[shared]
    owner = np.array([index.get(p, -1) for p in _job_packages(graph, job_rows)], dtype=np.int64)
    known = owner >= 0
    # Keys: equal root sets first, then the derivation of each job (shifted past the root-set keys).
    member = np.concatenate([np.arange(count), owner[known]])
    key = np.concatenate([roots_key, len(same_roots) + graph.job_drv[job_rows[known]].astype(np.int64)])
    label = np.arange(count, dtype=np.int64)
    while True:
        lowest = np.full(int(key.max()) + 1, count, dtype=np.int64)
        np.minimum.at(lowest, key, label[member])
        joined = label.copy()
        np.minimum.at(joined, member, lowest[key])
        while True:
            jumped = joined[joined]
            if np.array_equal(jumped, joined):
                break
            joined = jumped
        if np.array_equal(joined, label):
            return label
        label = joined


# -- the propagation --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Levels:
    """The propagation edges sorted by (topological level of the consumer, consumer)."""

    #: Topological level of every derivation: 0 for those without propagation inputs, else 1 + max of inputs.
    level: np.ndarray
    #: Input row of each edge, in the sorted order.
    inputs: np.ndarray
    #: Consumer row of each edge, in the sorted order.
    consumers: np.ndarray
    #: Index of the first edge of each consumer run (for reduceat), and its end as the last element.
    run_starts: np.ndarray


def _levels(graph: DerivationGraph) -> _Levels:
    """Topological levels and the propagation edges sorted by them (stored in snapshots)."""
    return _Levels(*graph.derived("levels", levels_table))


def levels_table(graph: DerivationGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Topological levels by Kahn's algorithm, one numpy step per level; refuses a cycle. Returns the fields of
    `_Levels` as arrays."""
    indptr, indices = propagation_csr(graph)
    n = len(graph)
    indegree = np.bincount(indices, minlength=n).astype(np.int64)
    level = np.zeros(n, dtype=np.int32)
    frontier = np.flatnonzero(indegree == 0)
    done = frontier.size
    depth = 0
    while frontier.size:
        depth += 1
        reached = indices[csr_edge_ids(indptr, frontier)]
        if reached.size == 0:
            break
        taken = np.bincount(reached, minlength=n)
        indegree -= taken
        frontier = np.flatnonzero((taken > 0) & (indegree == 0))
        level[frontier] = depth
        done += frontier.size
    if done != n:
        stuck = np.flatnonzero(indegree > 0)
        raise InputError(
            f"{graph.origin}: the derivation graph has a cycle through {graph.drv_paths[int(stuck[0])]}"
            f" ({stuck.size} derivations involved)",
            tip="a derivation graph from Nix cannot have cycles; re-export the snapshot",
        )
    source = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    order = np.lexsort((indices, level[indices]))
    consumers = indices[order].astype(np.int64)
    run_starts = np.flatnonzero(np.concatenate([[True], consumers[1:] != consumers[:-1]]))
    return level, source[order], consumers, np.append(run_starts, consumers.size).astype(np.int64)


def _batches(
    levels: _Levels, reach: np.ndarray, max_edges: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(inputs, run offsets, run lengths, consumers) per batch, level by level.

    Only edges between derivations in `reach` are kept (an input outside it carries no bit); a level is cut into
    pieces of at most `max_edges` edges, never inside one consumer's run of edges. Within a batch the runs are
    ordered longest first, so that the runs still going at each position are a prefix.
    """
    keep = reach[levels.consumers]
    keep &= reach[levels.inputs]
    inputs, consumers = levels.inputs[keep], levels.consumers[keep]
    if inputs.size == 0:
        return []
    starts = np.flatnonzero(np.concatenate([[True], consumers[1:] != consumers[:-1]]))
    cons = consumers[starts]
    run_level = levels.level[cons]
    edge_end = np.append(starts[1:], inputs.size)
    batches = []
    lo = 0
    for hi in [*(np.flatnonzero(np.diff(run_level)) + 1).tolist(), cons.size]:
        piece_lo = lo
        while piece_lo < hi:
            # Runs of one level are contiguous edges: take as many as fit in max_edges (at least one).
            limit = starts[piece_lo] + max_edges
            piece_hi = piece_lo + int(np.searchsorted(edge_end[piece_lo:hi], limit, side="right"))
            piece_hi = max(piece_hi, piece_lo + 1)
            e0, e1 = starts[piece_lo], edge_end[piece_hi - 1]
            lengths = edge_end[piece_lo:piece_hi] - starts[piece_lo:piece_hi]
            longest_first = np.argsort(-lengths, kind="stable")
            batches.append(
                (
                    inputs[e0:e1],
                    (starts[piece_lo:piece_hi] - e0)[longest_first],
                    lengths[longest_first],
                    cons[piece_lo:piece_hi][longest_first],
                )
            )
            piece_lo = piece_hi
        lo = hi
    return batches


def _reachable(graph: DerivationGraph, seeds: np.ndarray) -> np.ndarray:
    """Mask of the derivations the `seeds` rebuild (one breadth-first search for all of them)."""
    from impact.analysis.rebuild import rebuilt_rows

    mask = np.zeros(len(graph), dtype=bool)
    mask[rebuilt_rows(graph, seeds)] = True
    return mask


def _column_counts(bits: np.ndarray, rows: np.ndarray | None, width: int) -> np.ndarray:
    """How many of `rows` (all when None) have each bit set: one count per column."""
    columns = bits.shape[1] * 64
    counts = np.zeros(columns, dtype=np.int64)
    total = bits.shape[0] if rows is None else rows.size
    # Blocks of 255-row groups: each group is summed in uint8 (it cannot overflow), which is several times
    # faster than widening every unpacked bit to int64.
    group = 255
    # Blocks of about 4 MB unpacked stay in cache; unpacking the flat bytes is faster than along axis 1.
    step = group * max(1, (1 << 22) // (columns * group))
    for lo in range(0, total, step):
        block = bits[lo : lo + step] if rows is None else np.take(bits, rows[lo : lo + step], axis=0)
        unpacked = np.unpackbits(block.reshape(-1).view(np.uint8), bitorder="little").reshape(-1, columns)
        full = unpacked.shape[0] // group * group
        if full:
            counts += (
                unpacked[:full].reshape(-1, group, columns).sum(axis=1, dtype=np.uint8).sum(axis=0, dtype=np.int64)
            )
        counts += unpacked[full:].sum(axis=0, dtype=np.int64)
    return counts[:width]


def _or_runs(
    bits: np.ndarray, lo: int, inputs: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, scratch: np.ndarray
) -> None:
    """Write into rows `lo, lo + 1, …` of `bits`, for each run of edges (starting at `offsets`, runs longest
    first), the OR of the bit rows of its `inputs` (rows before `lo`).

    Done by position within the runs (every run's first input, then the second of the runs that have one, …):
    whole rows are gathered and OR-ed in place, several times faster than `np.bitwise_or.reduceat` along
    axis 0 of a 2-D array, which walks it column by column. The runs that have a k-th input are a prefix.
    `scratch` (at least as many rows as runs) holds each gathered block, so no array is allocated per step.
    """
    out = bits[lo : lo + offsets.size]
    # mode="wrap" (the rows are in range anyway) lets numpy gather straight into `out`, unbuffered.
    np.take(bits, inputs[offsets], axis=0, out=out, mode="wrap")
    # going[k]: how many runs have more than k inputs (lengths are sorted longest first).
    going = np.searchsorted(-lengths, -np.arange(1, int(lengths[0]) if lengths.size else 1), side="left")
    for position, m in enumerate(going.tolist(), start=1):
        gathered = np.take(bits, inputs[offsets[:m] + position], axis=0, out=scratch[:m], mode="wrap")
        np.bitwise_or(out[:m], gathered, out=out[:m])


def _set_bits(bits: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> None:
    """Set bit `columns[k]` of row `rows[k]` for every k (`np.bitwise_or.at`, which is slow, done by sorting the
    (row, word) cells and OR-reducing the masks of each)."""
    cells = rows * bits.shape[1] + columns // 64
    order = np.argsort(cells, kind="stable")
    cells = cells[order]
    masks = np.left_shift(np.uint64(1), (columns[order] % 64).astype(np.uint64))
    if cells.size == 0:
        return
    starts = np.flatnonzero(np.concatenate(([True], cells[1:] != cells[:-1])))
    flat = bits.reshape(-1)
    flat[cells[starts]] |= np.bitwise_or.reduceat(masks, starts)


def _target_kinds(targets: Mapping[str, np.ndarray | None], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every derivation's weight in each target (how many times the target lists it), as a kind per derivation
    and the distinct weight vectors: (kind of each row, weights of each kind as a kinds × targets array)."""
    weights = np.empty((n, len(targets)), dtype=np.int64)
    for t, rows in enumerate(targets.values()):
        weights[:, t] = 1 if rows is None else np.bincount(np.asarray(rows, dtype=np.int64), minlength=n)[:n]
    span = weights.max(axis=0) + 1
    if float(np.prod(span.astype(float))) < 2.0**22:
        # Few possible vectors: number them through a table rather than by sorting every row.
        radix = np.concatenate([np.cumprod(span[::-1])[::-1][1:], [1]]).astype(np.int64)
        code = weights @ radix
        present = np.bincount(code)
        number = np.cumsum(present > 0) - 1
        kind = number[code]
        first = np.full(int(number[-1]) + 1, n, dtype=np.int64)
        np.minimum.at(first, kind, np.arange(n))
        return kind, weights[first]
    vectors, kind = np.unique(weights, axis=0, return_inverse=True)
    return kind.reshape(-1), vectors


def _chunk_counts(bits: np.ndarray, kinds: np.ndarray, kind_weights: np.ndarray, width: int) -> np.ndarray:
    """Per column of `bits`, the weighted count in each target (columns × targets), given each row's kind.

    The most common kind is counted as all rows less the others, so that its rows need no gathering.
    """
    per_kind = np.bincount(kinds, minlength=kind_weights.shape[0])
    counted = np.asarray(kind_weights.any(axis=1), dtype=bool)
    main = int(np.argmax(per_kind))
    out = np.zeros((width, kind_weights.shape[1]), dtype=np.int64)
    rest = _column_counts(bits, None, width) if counted[main] else None
    order = np.argsort(kinds, kind="stable")
    ends = np.cumsum(per_kind)
    for k in np.flatnonzero(per_kind).tolist():
        if k == main or not (counted[k] or counted[main]):
            continue
        counts = _column_counts(bits, order[ends[k] - per_kind[k] : ends[k]], width)
        out += counts[:, None] * kind_weights[k]
        if rest is not None:
            rest -= counts
    if rest is not None:
        out += rest[:, None] * kind_weights[main]
    return out


def reach_counts(
    graph: DerivationGraph,
    root_sets: Sequence[np.ndarray],
    targets: Mapping[str, np.ndarray | None],
    *,
    memory: int = DEFAULT_MEMORY,
) -> dict[str, np.ndarray]:
    """For each root set, how many rows of each target the union of its roots rebuilds.

    `targets` maps a name to derivation rows (repeats count once each; None means every derivation).
    Returns name → counts, one per root set, exact. Memory for the bitsets stays under about `memory`.
    """
    n = len(graph)
    count = len(root_sets)
    names = list(targets)
    totals = np.zeros((count, len(names)), dtype=np.int64)
    if count == 0 or n == 0 or not names:
        return {name: totals[:, t].copy() for t, name in enumerate(names)}
    kind, kind_weights = _target_kinds(targets, n)
    sizes = np.array([r.size for r in root_sets], dtype=np.int64)
    seeds = np.concatenate(root_sets).astype(np.int64) if sizes.sum() else np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(count), sizes)
    indptr, indices = propagation_csr(graph)
    fan_out = np.diff(indptr)

    # A root set that passes its change to no consumer rebuilds its roots alone: counted without bitsets.
    spreads = np.bincount(owner, weights=fan_out[seeds], minlength=count) > 0
    alone = ~spreads[owner]
    if alone.any():
        cell = np.unique(owner[alone] * n + seeds[alone])
        own, row = cell // n, cell % n
        for t in range(len(names)):
            totals[:, t] += np.bincount(own, weights=kind_weights[kind[row], t], minlength=count).astype(np.int64)

    # Smallest estimated closures first, so that packages near the leaves share chunks and each chunk walks
    # few derivations. The estimate: consumers within two steps of each root (with repeats), summed.
    two_steps = fan_out + np.bincount(np.repeat(np.arange(n), fan_out), weights=fan_out[indices], minlength=n)
    estimate = np.bincount(owner, weights=two_steps[seeds], minlength=count)
    spreading = np.flatnonzero(spreads)
    order = spreading[np.argsort(estimate[spreading], kind="stable")]
    words = int(max(1, min((order.size + 63) // 64, memory // (8 * 2 * n))))
    levels = _levels(graph) if order.size else _Levels(*(np.zeros(0, dtype=np.int64),) * 4)
    buffer = np.empty(0, dtype=np.uint64)
    for chunk_lo in range(0, order.size, words * 64):
        members = order[chunk_lo : chunk_lo + words * 64]
        width = members.size
        seed_rows = np.concatenate([root_sets[m] for m in members]).astype(np.int64)
        seed_cols = np.repeat(np.arange(width), sizes[members])
        reach = _reachable(graph, seed_rows)
        batches = _batches(levels, reach, n)
        # The chunk's bitsets hold only the derivations its roots reach, renumbered by `local`: first those that
        # are no consumer in the chunk (its roots), then each batch's consumers in order, so that a batch writes
        # one contiguous block of rows.
        reached = np.flatnonzero(reach)
        consumer_rows = np.concatenate([b[3] for b in batches]) if batches else reached[:0]
        is_consumer = np.zeros(n, dtype=bool)
        is_consumer[consumer_rows] = True
        chunk_rows = np.concatenate([reached[~is_consumer[reached]], consumer_rows])
        local = np.zeros(n, dtype=np.int64)
        local[chunk_rows] = np.arange(chunk_rows.size)
        w = (width + 63) // 64
        # One buffer for every chunk: fresh pages cost a fault each on first touch, so they are touched once.
        if buffer.size < chunk_rows.size * w:
            buffer = np.empty(max(chunk_rows.size * w, min(2 * buffer.size, n * words)), dtype=np.uint64)
        bits = buffer[: chunk_rows.size * w].reshape(chunk_rows.size, w)
        first = chunk_rows.size - consumer_rows.size
        seeded = np.zeros(chunk_rows.size, dtype=bool)
        seeded[local[seed_rows]] = True
        # Consumer rows are written whole by their batch; only the rows holding seed bits start from zero.
        bits[:first] = 0
        seeded_consumers = first + np.flatnonzero(seeded[first:])
        bits[seeded_consumers] = 0
        _set_bits(bits, local[seed_rows], seed_cols)
        widest = max((b[1].size for b in batches), default=0)
        scratch = np.empty((widest, w), dtype=np.uint64)
        lo = first
        for inputs, offsets, lengths, consumers in batches:
            hi = lo + consumers.size
            # Each consumer has one run, so before its batch its row holds only its own seed bits, if any.
            own = lo + np.flatnonzero(seeded[lo:hi])
            saved = bits[own]
            _or_runs(bits, lo, local[inputs], offsets, lengths, scratch)
            bits[own] |= saved
            lo = hi
        totals[members] += _chunk_counts(bits, kind[chunk_rows], kind_weights, width)
    return {name: totals[:, t].copy() for t, name in enumerate(names)}


def rank(
    graph: DerivationGraph,
    *,
    jobset: str = "nixpkgs",
    kernel: str | None = None,
    memory: int = DEFAULT_MEMORY,
) -> Ranking:
    """Rank every package of `jobset` by what a change to it rebuilds (see the module docstring)."""
    if kernel is not None and kernel not in KERNELS:
        raise InputError(f"unknown kernel {kernel!r}", tip=f"use one of {', '.join(KERNELS)}")
    roots = package_roots(graph, jobset)
    if not roots and graph.job_count:
        from impact.errors import UnknownNameError

        raise UnknownNameError(
            f"no jobs of jobset {jobset!r} in snapshot {graph.origin}",
            tip=f"jobsets present: {', '.join(graph.jobsets)}",
        )
    groups = alias_groups(graph, roots, jobset)
    root_sets = [
        np.unique(np.concatenate([roots[p], *(roots[a] for a in aliases)])) if aliases else roots[p]
        for p, aliases in groups
    ]
    job_drv = graph.job_drv.astype(np.int64)
    systems, system_codes = coded(graph.job_systems)
    kernels = np.array([kernel_of(s) for s in systems] or [""])[system_codes]
    jobsets, jobset_codes = coded(graph.job_jobsets)
    nixos = jobset_codes == (jobsets.index("nixos") if "nixos" in jobsets else -1)
    targets: dict[str, np.ndarray | None] = {"derivations": None, "jobs": job_drv, "nixos": job_drv[nixos]}
    for k in KERNELS:
        targets[k] = job_drv[kernels == k]
    counts = reach_counts(graph, root_sets, targets, memory=memory)
    key = f"jobs_{kernel}" if kernel else "jobs_total"
    by_field = {
        "jobs_linux": counts["linux"],
        "jobs_darwin": counts["darwin"],
        "jobs_total": counts["jobs"],
        "nixos_jobs": counts["nixos"],
        "derivations_to_build": counts["derivations"],
        "roots": np.array([r.size for r in root_sets], dtype=np.int64),
    }
    names = [p for p, _ in groups]
    by_name = np.empty(len(names), dtype=np.int64)
    by_name[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    order = np.lexsort((by_name, -by_field["derivations_to_build"], -by_field[key])).tolist()
    columns = {f: v[order].tolist() for f, v in by_field.items()}
    rows = tuple(
        RankRow(names[i], linux, darwin, total, nixos, derivations, root_count, groups[i][1])
        for i, linux, darwin, total, nixos, derivations, root_count in zip(
            order,
            columns["jobs_linux"],
            columns["jobs_darwin"],
            columns["jobs_total"],
            columns["nixos_jobs"],
            columns["derivations_to_build"],
            columns["roots"],
        )
    )
    in_snapshot = {k: int((kernels == k).sum()) for k in KERNELS}
    in_snapshot["total"] = graph.job_count
    return Ranking(
        jobset=jobset,
        kernel=kernel,
        rows=rows,
        jobs_in_snapshot=in_snapshot,
        derivations_in_snapshot=len(graph),
        excluded=EXCLUDED,
    )


register_table("levels", levels_table)
register_table("package_roots", package_roots_table)
