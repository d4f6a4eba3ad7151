"""Naming a change: which root derivations an edit changes directly.

A change is given as attribute names (`qemu`), files (`--file pkgs/…/qemu/default.nix`) or exact derivations
(`--drv`). Naming a package means its package file changed. Everything that file builds from the same
source changes with it: the attribute on every system, and its overrides and variants (`qemu_kvm`, the
`qemu-x86-only` that NixOS tests run). impact finds those as the derivations that take the same source
(a fixed-output input such as the `src` tarball, or a local source file) and whose name says they are the
same package at the same version (`qemu-2.6.0`, `qemu-x86-only-2.6.0`): the source alone is not enough, since
other packages borrow sources (`test-bootstrap-tools` unpacks `hello.src`), and kernels of other versions
share patch files.

A change named by attribute or file is a commit, and every commit also changes the NixOS derivations that
embed the nixpkgs source tree; they are roots too, marked apart.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from impact.errors import UnknownNameError
from impact.model import DerivationGraph, job_package, path_name, register_table, store_path

#: A local source shared by more derivations than this is a builder script, not a package's source.
SHARED_SOURCE_LIMIT = 64

_VERSION_START = re.compile(r"-(?=\d)")
_SOURCE_TREE_CONSUMER = re.compile(r"^nixos-\d+\.\d+")


class RootKind(str, Enum):
    """Why a derivation is a root of a change."""

    NAMED = "named"
    """It is the derivation of a named attribute or of a job defined in the named file."""
    VARIANT = "variant"
    """It is built from the same source as a named derivation and carries the same package name."""
    GIVEN = "given"
    """It was given exactly with --drv."""
    SOURCE_TREE = "source-tree"
    """It embeds the nixpkgs source tree, so every commit changes it."""
    EVALUATED = "evaluated"
    """Nix evaluated its job before and after the change (`--git`) and the output paths differ."""


@dataclass(frozen=True, slots=True)
class Root:
    """One root derivation of a change and why it is one."""

    #: The .drv path.
    path: str
    #: The derivation name.
    name: str
    #: Its system.
    system: str
    #: Why it is a root.
    kind: RootKind
    #: A readable reason, e.g. `qemu.x86_64-linux` or `same source as qemu-2.6.0 (qemu-2.6.0.tar.bz2)`.
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """A change to estimate: what the user named, and the root derivations it changes directly."""

    #: How the change was named, for headers and reproduction (e.g. `qemu`, `--drv /nix/store/…`).
    description: str
    #: The roots, sorted by path.
    roots: tuple[Root, ...]
    #: Named attribute → other attributes whose jobs build the same derivations (`linux` → `linux_4_14`,
    #: `linuxPackages.kernel`): aliases, which the graph cannot tell from the attribute itself. Estimating an
    #: edit of the package is right for all of them; re-pointing one of them is a change the graph cannot see.
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: What keeps the answer from being known to be whole (`--file` naming a file no job is defined in).
    notes: tuple[str, ...] = ()

    @property
    def root_paths(self) -> list[str]:
        """All root .drv paths."""
        return [r.path for r in self.roots]

    @property
    def source_tree_roots(self) -> list[str]:
        """The roots that change only because the nixpkgs source tree changed (every commit)."""
        return [r.path for r in self.roots if r.kind is RootKind.SOURCE_TREE]


def package_name(name: str) -> str:
    """The package part of a derivation name: `qemu-2.6.0` → `qemu`, `gtk+3-3.20.5` → `gtk+3`."""
    m = _VERSION_START.search(name)
    return name[: m.start()] if m else name


def source_tree_derivations(graph: DerivationGraph) -> list[int]:
    """Rows of the derivations that take the nixpkgs source tree itself as an input source.

    The tree is copied into the store under the name of the checkout folder (no file extension) and taken
    by the NixOS derivations named `nixos-<version>…` (the channel and the version file).
    """
    return graph.derived("source_tree", source_tree_rows).tolist()


def source_tree_rows(graph: DerivationGraph) -> np.ndarray:
    """`source_tree_derivations` as a sorted array, built from the whole graph (stored in snapshots)."""
    candidates = [s for s, p in enumerate(graph.source_paths) if "." not in path_name(p)]
    consumer = np.repeat(np.arange(len(graph), dtype=np.int64), np.diff(graph.source_indptr))
    taken = np.isin(graph.source_indices, candidates)
    consumers_of_source: dict[int, list[int]] = {}
    for s, c in zip(graph.source_indices[taken].tolist(), consumer[taken].tolist()):
        consumers_of_source.setdefault(s, []).append(c)
    rows: set[int] = set()
    for consumers in consumers_of_source.values():
        if all(_SOURCE_TREE_CONSUMER.match(graph.names[c]) for c in consumers):
            rows.update(consumers)
    return np.array(sorted(rows), dtype=np.int64)


def source_keys(graph: DerivationGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source keys as arrays (stored in snapshots): (row of each fixed-output key, row → keys CSR indptr, keys
    sorted by name, key → consumers CSR indptr, consumers).

    A key is a fixed-output input by its output path (the same tarball fetched on two systems is one key)
    or a local source as `src:<path>`. Consumers are the derivations that are not fixed-output themselves.
    """
    n = len(graph)
    fixed = graph.fixed_output
    key_ids: dict[str, int] = {}
    key_rows: list[int] = []
    fixed_key = np.full(n, -1, dtype=np.int64)
    for j in np.flatnonzero(fixed).tolist():
        outs = graph.output_paths[j]
        if outs:
            k = key_ids.get(outs[0])
            if k is None:
                k = key_ids[outs[0]] = len(key_rows)
                key_rows.append(j)
            fixed_key[j] = k
    fixed_count = len(key_rows)
    names = [*key_ids, *("src:" + p for p in graph.source_paths)]
    count = len(names)
    by_name = np.array(sorted(range(count), key=names.__getitem__), dtype=np.int64)
    rank = np.empty(count, dtype=np.int64)
    rank[by_name] = np.arange(count)
    input_key = fixed_key[graph.input_indices]
    by_input = input_key >= 0
    keys = np.concatenate([input_key[by_input], fixed_count + graph.source_indices.astype(np.int64)])
    consumers = np.concatenate(
        [
            np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.input_indptr))[by_input],
            np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.source_indptr)),
        ]
    )
    # Row → its keys, every row (a fixed-output row too), in the order of their names.
    by_row = np.unique(consumers * max(count, 1) + rank[keys])
    row_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(by_row // max(count, 1), minlength=n), out=row_indptr[1:])
    row_keys = by_name[by_row % max(count, 1)]
    keep = ~fixed[consumers]
    pairs = np.unique(keys[keep] * n + consumers[keep])
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs // n, minlength=count), out=indptr[1:])
    return np.array(key_rows, dtype=np.int64), row_indptr, row_keys, indptr, pairs % n


register_table("source_keys", source_keys)
register_table("source_tree", source_tree_rows)


class _SourceTable:
    """Source keys and the derivations that take each (see `source_keys`), names made only when asked."""

    def __init__(self, graph: DerivationGraph) -> None:
        self._graph = graph
        self._key_rows, self._row_indptr, self._row_keys, self.indptr, self.consumers = graph.derived(
            "source_keys", source_keys
        )
        self.fixed_count = int(self._key_rows.size)

    def name(self, key: int) -> str:
        """The key's name: a fixed-output path, or `src:<path>`."""
        if key < self.fixed_count:
            return self._graph.output_paths[int(self._key_rows[key])][0]
        return "src:" + self._graph.source_paths[key - self.fixed_count]

    def keys_of(self, graph: DerivationGraph, i: int) -> list[int]:
        """The source keys of derivation row `i`, in the order of their names."""
        return self._row_keys[self._row_indptr[i] : self._row_indptr[i + 1]].tolist()

    def count(self, key: int) -> int:
        """How many derivations take source key `key`."""
        return int(self.indptr[key + 1] - self.indptr[key])

    def consumers_of(self, key: int) -> list[int]:
        """The derivations (not fixed-output) that take source key `key`, by row."""
        return self.consumers[self.indptr[key] : self.indptr[key + 1]].tolist()


def _source_table(graph: DerivationGraph) -> _SourceTable:
    return graph.derived("source_table", _SourceTable)


def variants_of(
    graph: DerivationGraph, rows: Iterable[int], *, names: Sequence[str] | None = None, reasons: bool = True
) -> dict[int, str]:
    """Derivations built from the same source as `rows` and named as the same package → a reason (empty
    when `reasons` is false: `rank` asks for the rows alone). `names` may give `graph.names` as a list."""
    table = _source_table(graph)
    found: dict[int, str] = {}
    named = set(rows)
    names = graph.names if names is None else names
    for i in sorted(named):
        name = names[i]
        pname = package_name(name)
        version = name[len(pname) :]
        for k in table.keys_of(graph, i):
            if k >= table.fixed_count and table.count(k) > SHARED_SOURCE_LIMIT:
                continue
            consumers = table.consumers_of(k)
            for c in consumers:
                if c in named or c in found:
                    continue
                other = names[c]
                if other == name or (version and other.startswith(pname + "-") and other.endswith(version)):
                    found[c] = (
                        f"same source as {name} ({path_name(table.name(k).removeprefix('src:'))})" if reasons else ""
                    )
    return found


def _jobs_named(graph: DerivationGraph, name: str) -> list[int]:
    return graph.jobs_with_attr(name) or graph.jobs_of_package(name)


_TIPS = {
    "attribute": "names are Hydra job attributes without the system, e.g. qemu, linux_4_4, tests.nat.standalone",
    "derivation": "give a .drv path of the snapshot, e.g. from `nix-instantiate` or a job's drvPath",
    "job defined in file": "give a nixpkgs file relative to the checkout, as in meta.position",
}


def _derivations_named(graph: DerivationGraph, name: str) -> list[int]:
    """Derivations (not fixed-output) whose name is `name` or whose package name is: for packages no job builds
    on its own, such as firefox, which only a NixOS test takes in the 2016 jobsets."""
    return [
        i
        for i, n in enumerate(graph.names)
        if not graph.fixed_output[i] and (n == name or (n.startswith(name) and package_name(n) == name))
    ]


def _unknown(graph: DerivationGraph, what: str, name: str, candidates: Iterable[str]) -> UnknownNameError:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    return UnknownNameError(f"no {what} {name!r} in snapshot {graph.origin}{hint}", tip=_TIPS[what])


def _refuse_job_set(graph: DerivationGraph, name: str) -> None:
    """A name that is a set of jobs (`linuxPackages`: `linuxPackages.kernel`, …) gets its own message, since
    changing such an attribute is usually re-pointing it (`linuxPackages = linuxPackages_4_19`)."""
    prefix = name + "."
    members = sorted({p for p in graph.job_packages if p.startswith(prefix)})
    if members:
        shown = ", ".join(members[:3]) + (f", … {len(members) - 3} more" if len(members) > 3 else "")
        raise UnknownNameError(
            f"{name!r} is a set of {len(members)} attributes in snapshot {graph.origin} ({shown}), not one package",
            tip=f"name the package that changes (e.g. {members[0]}), or for a re-pointing such as "
            f"`{name} = …` give --repoint {name}=TARGET",
        )


def _jobs_in_file(graph: DerivationGraph, file: str) -> list[int]:
    want = file.strip().removeprefix("./")
    found = []
    for k, pos in enumerate(graph.job_positions):
        if not pos:
            continue
        f = pos.rsplit(":", 1)[0] if pos.rsplit(":", 1)[-1].isdigit() else pos
        if f == want or want.endswith("/" + f) or f.endswith("/" + want):
            found.append(k)
    return found


def resolve_change(
    graph: DerivationGraph,
    names: Sequence[str] = (),
    drvs: Sequence[str] = (),
    files: Sequence[str] = (),
    *,
    only: bool = False,
    commit: bool | None = None,
) -> Change:
    """Turn names, files and exact derivations into a `Change` with its roots.

    `only` keeps the named attributes alone (no variants). `commit` adds the derivations that embed the
    nixpkgs source tree; by default it is on when a name or file is given, off for `--drv` alone.
    """
    roots: dict[int, tuple[RootKind, str]] = {}
    named_rows: list[int] = []
    for name in names:
        jobs = _jobs_named(graph, name)
        if not jobs:
            rows = _derivations_named(graph, name)
            if not rows:
                _refuse_job_set(graph, name)
                raise _unknown(graph, "attribute", name, graph.job_packages)
            for i in rows:
                roots.setdefault(i, (RootKind.NAMED, f"derivation {graph.names[i]} (no job is called {name})"))
            named_rows.extend(rows)
        for k in jobs:
            roots.setdefault(int(graph.job_drv[k]), (RootKind.NAMED, f"{graph.job_jobsets[k]}: {graph.job_attrs[k]}"))
            named_rows.append(int(graph.job_drv[k]))
    notes: list[str] = []
    for file in files:
        jobs = _jobs_in_file(graph, file)
        if not jobs:
            notes.append(
                f"{file} defines no job (meta.position), and the snapshot cannot tell what reads it"
                " (impact estimate --git follows the files that read a change)"
            )
            continue
        for k in jobs:
            roots.setdefault(
                int(graph.job_drv[k]),
                (RootKind.NAMED, f"{graph.job_jobsets[k]}: {graph.job_attrs[k]} (defined in {file})"),
            )
            named_rows.append(int(graph.job_drv[k]))
    if not only and named_rows:
        for row, reason in variants_of(graph, named_rows).items():
            roots.setdefault(row, (RootKind.VARIANT, reason))
    for drv in drvs:
        given = graph.index.get(store_path(drv))
        if given is None:
            raise _unknown(graph, "derivation", drv, graph.drv_paths)
        roots[given] = (RootKind.GIVEN, "given with --drv")
    if commit is None:
        commit = bool(names or files)
    if commit:
        for row in source_tree_derivations(graph):
            roots.setdefault(row, (RootKind.SOURCE_TREE, "embeds the nixpkgs source tree: changes on every commit"))
    aliases = {name: shared for name in names if (shared := attributes_sharing(graph, name))}
    parts = [*names, *(f"--file {f}" for f in files), *(f"--drv {d}" for d in drvs)]
    if only:
        parts.append("--only")
    return Change(
        description=" ".join(parts),
        roots=tuple(
            sorted(
                (
                    Root(graph.drv_paths[i], graph.names[i], graph.system_of(i), kind, reason)
                    for i, (kind, reason) in roots.items()
                ),
                key=lambda r: r.path,
            )
        ),
        aliases=aliases,
        notes=tuple(notes),
    )


def attributes_sharing(graph: DerivationGraph, name: str) -> tuple[str, ...]:
    """Other attributes (without system) whose jobs build a derivation that the jobs of `name` build, sorted."""
    jobs = _jobs_named(graph, name)
    if not jobs:
        return ()

    def package(k: int) -> str:
        return job_package(graph.job_attrs[k], graph.job_systems[k])

    packages = {package(k) for k in jobs}
    # One vectorised scan over the jobs, not a derivation → jobs table: a cold estimate must not pay for a
    # table over every job of a million-derivation graph.
    sharing = np.flatnonzero(np.isin(graph.job_drv, graph.job_drv[np.asarray(jobs, dtype=np.int64)]))
    found = {package(k) for k in sharing.tolist()} - packages
    return tuple(sorted(found))


def root_rows(graph: DerivationGraph, change: Change) -> np.ndarray:
    """The rows of a change's roots."""
    return np.array([graph.index[p] for p in change.root_paths], dtype=np.int64)
