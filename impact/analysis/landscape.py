"""The mass-rebuild landscape: where every package of a snapshot stands against the branch lines.

Built on `impact.analysis.rank` (every package's changed jobs and derivations to build, exact) with two things
the ranking does not count:

- *Rebuilds per kernel* as nixpkgs CI counts them for its `10.rebuild-<kernel>` labels and as the branch rules
  read them: unique package names (attribute without the system) among the changed jobs of the `nixpkgs`
  jobset, on any system of the kernel. A package's changed jobs on a kernel are an upper bound of this count
  (each counted package has at least one changed job there), so only packages whose jobs reach the lowest line
  are counted exactly, one estimate each; the others are below every line.
- *stdenv-level* packages: those whose change rebuilds a kernel's `stdenv` job (the CI label
  `10.rebuild-<kernel>-stdenv`), found for every package at once by the ranking's bitset propagation
  (`reach_counts`) with the `stdenv` jobs' derivations as the targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis.change import resolve_change
from impact.analysis.labels import labels_of
from impact.analysis.rank import KERNELS, Ranking, kernel_of, package_roots, reach_counts
from impact.analysis.rebuild import estimate
from impact.model import DerivationGraph

#: The branch lines of today's nixpkgs rules: from 500 rebuilds on a kernel consider staging; from 1000 it is
#: a mass rebuild and goes to staging.
LINES = (500, 1000)


@dataclass(frozen=True)
class Landscape:
    """Every package's rebuild against the lines, and which packages are stdenv-level."""

    #: The ranking it is built on (rows sorted by its kernel, else all jobs).
    ranking: Ranking
    #: The lines, in rebuilds per kernel.
    lines: tuple[int, ...]
    #: Package → kernel → rebuilds (unique nixpkgs package names), for packages whose jobs reach the lowest line.
    rebuilds: Mapping[str, Mapping[str, int]]
    #: Kernel → sorted packages whose change rebuilds that kernel's `stdenv` job.
    stdenv_level: Mapping[str, tuple[str, ...]]

    def at_or_above(self, line: int, kernel: str = "linux") -> tuple[str, ...]:
        """Packages whose change rebuilds at least `line` packages on `kernel`, most first."""
        found = [(-counts.get(kernel, 0), p) for p, counts in self.rebuilds.items() if counts.get(kernel, 0) >= line]
        return tuple(p for _, p in sorted(found))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: the counts at each line and the stdenv-level packages."""
        return {
            "packages": len(self.ranking.rows),
            "lines": {k: {str(line): len(self.at_or_above(line, k)) for line in self.lines} for k in KERNELS},
            "stdenv_level": {k: list(v) for k, v in self.stdenv_level.items()},
            "rebuilds": {p: dict(c) for p, c in self.rebuilds.items()},
        }


def _stdenv_rows(graph: DerivationGraph) -> dict[str, np.ndarray]:
    """Kernel → rows of the derivations of the `stdenv` jobs of the `nixpkgs` jobset on that kernel."""
    found: dict[str, list[int]] = {k: [] for k in KERNELS}
    for k, (js, package, system) in enumerate(zip(graph.job_jobsets, graph.job_packages, graph.job_systems)):
        if js == "nixpkgs" and package == "stdenv" and kernel_of(system) in found:
            found[kernel_of(system)].append(int(graph.job_drv[k]))
    return {k: np.array(sorted(set(v)), dtype=np.int64) for k, v in found.items()}


def rebuilds_per_kernel(graph: DerivationGraph, package: str) -> dict[str, int]:
    """Kernel → unique `nixpkgs` package names among the jobs a change to `package` rebuilds (no every-commit share).

    Counted by `impact.analysis.labels`, as nixpkgs CI counts them for its labels.
    """
    result = estimate(graph, resolve_change(graph, names=[package], commit=False))
    return dict(labels_of(result).rebuild_count_by_kernel)


def landscape(graph: DerivationGraph, ranking: Ranking, lines: Sequence[int] = LINES) -> Landscape:
    """Count every package against `lines` and find the stdenv-level ones (see the module docstring)."""
    lowest = min(lines)
    rebuilds = {
        r.package: rebuilds_per_kernel(graph, r.package)
        for r in ranking.rows
        if r.jobs_linux >= lowest or r.jobs_darwin >= lowest
    }
    stdenv = stdenv_level(graph, ranking.jobset)
    return Landscape(ranking=ranking, lines=tuple(sorted(lines)), rebuilds=rebuilds, stdenv_level=stdenv)


def stdenv_level(graph: DerivationGraph, jobset: str = "nixpkgs") -> dict[str, tuple[str, ...]]:
    """Kernel → the packages of `jobset` whose change rebuilds that kernel's `stdenv` job, sorted (empty for a
    kernel without one): one bitset propagation over every package (`reach_counts`)."""
    roots = package_roots(graph, jobset)
    packages = list(roots)
    targets: dict[str, np.ndarray | None] = dict(_stdenv_rows(graph))
    counts = reach_counts(graph, [roots[p] for p in packages], targets)
    return {k: tuple(p for i, p in enumerate(packages) if counts[k][i] > 0) for k in KERNELS}


def stdenv_band(ranking: Ranking, level: Mapping[str, Sequence[str]]) -> int:
    """How many of the ranking's leading rows are stdenv-level: the tie at the top of `impact rank`, where every
    row rebuilds (nearly) everything.

    A row is stdenv-level when its package is, on the kernel the ranking is sorted by, or on every kernel that
    has a `stdenv` job when it is sorted by all jobs (`level` as `stdenv_level` gives it). Rows are counted
    from the top until the first that is not.
    """
    kernels = [ranking.kernel] if ranking.kernel else [k for k in KERNELS if level.get(k)]
    sets = [set(level.get(k, ())) for k in kernels]
    if not sets:
        return 0
    count = 0
    for row in ranking.rows:
        if not all(row.package in s for s in sets):
            break
        count += 1
    return count
