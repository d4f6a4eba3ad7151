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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from impact.errors import UnknownNameError
from impact.model import DerivationGraph, path_name, store_path

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
    rows: set[int] = set()
    consumers_of_source: dict[int, list[int]] = {}
    for i in range(len(graph)):
        lo, hi = graph.source_indptr[i], graph.source_indptr[i + 1]
        for s in graph.source_indices[lo:hi].tolist():
            consumers_of_source.setdefault(s, []).append(i)
    for s, consumers in consumers_of_source.items():
        if "." in path_name(graph.source_paths[s]):
            continue
        if all(_SOURCE_TREE_CONSUMER.match(graph.names[c]) for c in consumers):
            rows.update(consumers)
    return sorted(rows)


def _sources_of(graph: DerivationGraph, i: int) -> set[str]:
    """The source keys of derivation row `i`: fixed-output inputs (by output path) and local sources."""
    keys = {graph.output_paths[j][0] for j, _ in graph.inputs_of(i) if graph.fixed_output[j] and graph.output_paths[j]}
    keys.update("src:" + s for s in graph.sources_of(i))
    return keys


def _source_consumers(graph: DerivationGraph) -> dict[str, list[int]]:
    cached = getattr(graph, "_source_consumers", None)
    if cached is not None:
        return cached
    table: dict[str, list[int]] = {}
    fixed = graph.fixed_output
    for i in range(len(graph)):
        if fixed[i]:
            continue
        for key in _sources_of(graph, i):
            table.setdefault(key, []).append(i)
    graph._source_consumers = table  # type: ignore[attr-defined]
    return table


def variants_of(graph: DerivationGraph, rows: Iterable[int]) -> dict[int, str]:
    """Derivations built from the same source as `rows` and named as the same package → a reason."""
    table = _source_consumers(graph)
    found: dict[int, str] = {}
    named = set(rows)
    for i in sorted(named):
        name = graph.names[i]
        pname = package_name(name)
        version = name[len(pname) :]
        for key in sorted(_sources_of(graph, i)):
            consumers = table.get(key, [])
            if key.startswith("src:") and len(consumers) > SHARED_SOURCE_LIMIT:
                continue
            for c in consumers:
                if c in named or c in found:
                    continue
                other = graph.names[c]
                if other == name or (version and other.startswith(pname + "-") and other.endswith(version)):
                    found[c] = f"same source as {name} ({path_name(key.removeprefix('src:'))})"
    return found


def _jobs_named(graph: DerivationGraph, name: str) -> list[int]:
    exact = [k for k, a in enumerate(graph.job_attrs) if a == name]
    if exact:
        return exact
    return [k for k, p in enumerate(graph.job_packages) if p == name]


_TIPS = {
    "attribute": "names are Hydra job attributes without the system, e.g. qemu, linux_4_4, tests.nat.standalone",
    "derivation": "give a .drv path of the snapshot, e.g. from `nix-instantiate` or a job's drvPath",
    "job defined in file": "give a nixpkgs file relative to the checkout, as in meta.position",
}


def _unknown(graph: DerivationGraph, what: str, name: str, candidates: Iterable[str]) -> UnknownNameError:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    return UnknownNameError(f"no {what} {name!r} in snapshot {graph.origin}{hint}", tip=_TIPS[what])


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
            raise _unknown(graph, "attribute", name, graph.job_packages)
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
        i = graph.index.get(store_path(drv))
        if i is None:
            raise _unknown(graph, "derivation", drv, graph.drv_paths)
        roots[i] = (RootKind.GIVEN, "given with --drv")
    if commit is None:
        commit = bool(names or files)
    if commit:
        for row in source_tree_derivations(graph):
            roots.setdefault(row, (RootKind.SOURCE_TREE, "embeds the nixpkgs source tree: changes on every commit"))
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
    )


def root_rows(graph: DerivationGraph, change: Change) -> np.ndarray:
    """The rows of a change's roots."""
    return np.array([graph.index[p] for p in change.root_paths], dtype=np.int64)
