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
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from impact.errors import UnknownNameError
from impact.model import DerivationGraph, path_name, store_path

#: A local source shared by more derivations than this is a builder script, not a package's source.
SHARED_SOURCE_LIMIT = 64

_VERSION_START = re.compile(r"-(?=\d)")
# Per-graph tables, built on first use (a graph is immutable once loaded).
_SOURCE_TREE: weakref.WeakKeyDictionary[DerivationGraph, tuple[int, ...]] = weakref.WeakKeyDictionary()
_SOURCE_TABLES: weakref.WeakKeyDictionary[DerivationGraph, _SourceTable] = weakref.WeakKeyDictionary()
_JOB_NAMES: weakref.WeakKeyDictionary[DerivationGraph, tuple[dict[str, list[int]], dict[str, list[int]]]] = (
    weakref.WeakKeyDictionary()
)
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
    cached = _SOURCE_TREE.get(graph)
    if cached is not None:
        return list(cached)
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
    _SOURCE_TREE[graph] = tuple(sorted(rows))
    return sorted(rows)


class _SourceTable:
    """Source keys and the derivations that take each, as arrays, built once per graph with numpy.

    A key is a fixed-output input by its output path (the same tarball fetched on two systems is one key)
    or a local source as `src:<path>`. Consumers are the derivations that are not fixed-output themselves.
    """

    def __init__(self, graph: DerivationGraph) -> None:
        n = len(graph)
        fixed = graph.fixed_output
        key_ids: dict[str, int] = {}
        self.fixed_key = np.full(n, -1, dtype=np.int64)
        for j in np.flatnonzero(fixed).tolist():
            if graph.output_paths[j]:
                self.fixed_key[j] = key_ids.setdefault(graph.output_paths[j][0], len(key_ids))
        self.fixed_count = len(key_ids)
        self.names = [*key_ids, *("src:" + p for p in graph.source_paths)]
        input_key = self.fixed_key[graph.input_indices]
        by_input = input_key >= 0
        keys = np.concatenate([input_key[by_input], self.fixed_count + graph.source_indices.astype(np.int64)])
        consumers = np.concatenate(
            [
                np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.input_indptr))[by_input],
                np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.source_indptr)),
            ]
        )
        count = len(self.names)
        # Row → its keys, every row (a fixed-output row too), as lists: looked up once per named row.
        by_row = np.unique(consumers * count + keys)
        row_indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(by_row // count, minlength=n), out=row_indptr[1:])
        self._row_indptr: list[int] = row_indptr.tolist()
        self._row_keys: list[int] = (by_row % count).tolist()
        keep = ~fixed[consumers]
        pairs = np.unique(keys[keep] * n + consumers[keep])
        self.indptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(np.bincount(pairs // n, minlength=count), out=self.indptr[1:])
        self.consumers = pairs % n

    def keys_of(self, graph: DerivationGraph, i: int) -> list[int]:
        """The source keys of derivation row `i`, in the order of their names."""
        keys = self._row_keys[self._row_indptr[i] : self._row_indptr[i + 1]]
        return sorted(keys, key=self.names.__getitem__) if len(keys) > 1 else keys

    def count(self, key: int) -> int:
        """How many derivations take source key `key`."""
        return int(self.indptr[key + 1] - self.indptr[key])

    def consumers_of(self, key: int) -> list[int]:
        """The derivations (not fixed-output) that take source key `key`, by row."""
        return self.consumers[self.indptr[key] : self.indptr[key + 1]].tolist()


def _source_table(graph: DerivationGraph) -> _SourceTable:
    table = _SOURCE_TABLES.get(graph)
    if table is None:
        table = _SOURCE_TABLES[graph] = _SourceTable(graph)
    return table


def variants_of(graph: DerivationGraph, rows: Iterable[int]) -> dict[int, str]:
    """Derivations built from the same source as `rows` and named as the same package → a reason."""
    table = _source_table(graph)
    found: dict[int, str] = {}
    named = set(rows)
    for i in sorted(named):
        name = graph.names[i]
        pname = package_name(name)
        version = name[len(pname) :]
        for k in table.keys_of(graph, i):
            key = table.names[k]
            if k >= table.fixed_count and table.count(k) > SHARED_SOURCE_LIMIT:
                continue
            consumers = table.consumers_of(k)
            for c in consumers:
                if c in named or c in found:
                    continue
                other = graph.names[c]
                if other == name or (version and other.startswith(pname + "-") and other.endswith(version)):
                    found[c] = f"same source as {name} ({path_name(key.removeprefix('src:'))})"
    return found


def _jobs_named(graph: DerivationGraph, name: str) -> list[int]:
    tables = _JOB_NAMES.get(graph)
    if tables is None:
        by_attr: dict[str, list[int]] = {}
        by_package: dict[str, list[int]] = {}
        for k, (attr, package) in enumerate(zip(graph.job_attrs, graph.job_packages)):
            by_attr.setdefault(attr, []).append(k)
            by_package.setdefault(package, []).append(k)
        tables = _JOB_NAMES[graph] = (by_attr, by_package)
    return list(tables[0].get(name) or tables[1].get(name) or [])


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
    for file in files:
        jobs = _jobs_in_file(graph, file)
        if not jobs:
            files_known = (p.rsplit(":", 1)[0] for p in graph.job_positions if p)
            raise _unknown(graph, "job defined in file", file, files_known)
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
    )


def attributes_sharing(graph: DerivationGraph, name: str) -> tuple[str, ...]:
    """Other attributes (without system) whose jobs build a derivation that the jobs of `name` build, sorted."""
    jobs = _jobs_named(graph, name)
    packages = {graph.job_packages[k] for k in jobs}
    jobs_of = graph.jobs_of_derivation
    found = {
        graph.job_packages[other]
        for k in jobs
        for other in jobs_of.get(int(graph.job_drv[k]), ())
        if graph.job_packages[other] not in packages
    }
    return tuple(sorted(found))


def root_rows(graph: DerivationGraph, change: Change) -> np.ndarray:
    """The rows of a change's roots."""
    return np.array([graph.index[p] for p in change.root_paths], dtype=np.int64)
