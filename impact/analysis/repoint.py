"""Re-pointing an attribute: `linuxPackages = linuxPackages_4_19` (moving the default kernel 4.14 → 4.19).

Such a change edits no derivation: it makes an attribute name a derivation that already exists. The graph
knows which derivations each job builds, but not how a consumer reached its inputs: a NixOS system that takes
`linux-4.14.106` may have named `linuxPackages` (and follows the re-pointing) or `linux_4_14` (and does not).
So the graph alone gives bounds, not the answer:

- at least the re-pointed attribute's own jobs change (`linuxPackages.kernel.x86_64-linux` now builds what
  `linuxPackages_4_19.kernel.x86_64-linux` builds); their derivations exist already (they are the new target's
  jobs), so Hydra builds nothing new for them;
- at most everything that depends on the old target's derivations changes, as if those derivations were edited.

Exact mode (`impact diff` of two evaluations, or `impact pr`) answers it: it compares Nix's own output paths.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from impact.analysis.change import Root, RootKind, resolve_change
from impact.analysis.rebuild import RebuildEstimate, estimate
from impact.errors import UnknownNameError
from impact.model import DerivationGraph

#: What the user is told to run for the exact answer.
EXACT_MODE = (
    "evaluate the tree before and after the re-pointing (`impact eval`) and compare them with `impact diff`, "
    "or let `impact pr` do both"
)


@dataclass(frozen=True)
class Repointing:
    """The bounds the graph gives for re-pointing `attribute` to `target`."""

    #: The re-pointed attribute, e.g. `linuxPackages`.
    attribute: str
    #: What it now names, e.g. `linuxPackages_4_19`.
    target: str
    #: Jobset → sorted jobs of `attribute` that build another derivation after the re-pointing (the lower bound).
    repointed_jobs: Mapping[str, tuple[str, ...]]
    #: Jobset → sorted jobs of `attribute` that build the same derivation before and after.
    unchanged_jobs: Mapping[str, tuple[str, ...]]
    #: Jobset → sorted jobs of `attribute` without a counterpart under `target` (they disappear).
    removed_jobs: Mapping[str, tuple[str, ...]]
    #: Jobset → sorted jobs of `target` without a counterpart under `attribute` (they appear under it).
    added_jobs: Mapping[str, tuple[str, ...]]
    #: Other attributes (package, without system) whose jobs build the old target's derivations: aliases the
    #: graph cannot tell apart from `attribute`, sorted.
    sharing: tuple[str, ...]
    #: The upper bound: what changes if every consumer of the old target's derivations follows the re-pointing.
    upper: RebuildEstimate

    @property
    def lower_job_count(self) -> int:
        """Jobs that change at least."""
        return sum(len(v) for v in self.repointed_jobs.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        upper = self.upper.to_dict()
        return {
            "repoint": {"attribute": self.attribute, "target": self.target},
            "exact": False,
            "why": "the graph cannot tell which consumers reach the old target through the re-pointed attribute",
            "lower_bound": {
                "changed_jobs": {k: list(v) for k, v in self.repointed_jobs.items()},
                "changed_jobs_count": {k: len(v) for k, v in self.repointed_jobs.items()},
                "derivations_to_build": 0,
            },
            "upper_bound": {
                k: upper[k]
                for k in (
                    "changed_jobs_count",
                    "changed_jobs_by_system",
                    "derivations_to_build",
                    "derivations_to_build_by_system",
                    "nixos_tests",
                )
            },
            "unchanged_jobs": {k: list(v) for k, v in self.unchanged_jobs.items()},
            "removed_jobs": {k: list(v) for k, v in self.removed_jobs.items()},
            "added_jobs": {k: list(v) for k, v in self.added_jobs.items()},
            "sharing_derivations_with": list(self.sharing),
            "exact_mode": EXACT_MODE,
        }


def parse_repoint(spec: str) -> tuple[str, str]:
    """`linuxPackages=linuxPackages_4_19` → (`linuxPackages`, `linuxPackages_4_19`)."""
    attribute, eq, target = spec.partition("=")
    attribute, target = attribute.strip(), target.strip()
    if not eq or not attribute or not target or attribute == target:
        raise UnknownNameError(
            f"--repoint {spec!r} is not ATTRIBUTE=TARGET",
            tip="e.g. --repoint linuxPackages=linuxPackages_4_19",
        )
    return attribute, target


def _jobs_under(graph: DerivationGraph, attribute: str) -> dict[tuple[str, str], int]:
    """(jobset, attribute path below `attribute`, with the system) → job row, for the jobs of `attribute`."""
    out: dict[tuple[str, str], int] = {}
    prefix = attribute + "."
    for k, (jobset, attr) in enumerate(zip(graph.job_jobsets, graph.job_attrs)):
        if attr.startswith(prefix):
            out[(jobset, attr[len(prefix) :])] = k
    return out


def repoint(graph: DerivationGraph, attribute: str, target: str) -> Repointing:
    """The bounds the graph gives when `attribute` is re-pointed to `target` (`linuxPackages = linuxPackages_4_19`)."""
    old = _jobs_under(graph, attribute)
    new = _jobs_under(graph, target)
    for name, jobs in ((attribute, old), (target, new)):
        if not jobs:
            raise UnknownNameError(
                f"no job is named {name} or {name}.… in {graph.label}",
                tip="give the attribute as Hydra names its jobs, e.g. --repoint linuxPackages=linuxPackages_4_19",
            )
    repointed: dict[str, list[str]] = {}
    unchanged: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for (jobset, rest), k in old.items():
        counterpart = new.get((jobset, rest))
        bucket = (
            removed
            if counterpart is None
            else unchanged
            if graph.job_drv[counterpart] == graph.job_drv[k]
            else repointed
        )
        bucket.setdefault(jobset, []).append(f"{attribute}.{rest}")
    added: dict[str, list[str]] = {}
    for jobset, rest in new.keys() - old.keys():
        added.setdefault(jobset, []).append(f"{attribute}.{rest}")
    moved = [(js, a) for bucket in (repointed, removed) for js, attrs in bucket.items() for a in attrs]
    rows = sorted({int(graph.job_drv[old[(js, a[len(attribute) + 1 :])]]) for js, a in moved})
    # A re-pointing is a commit: the NixOS derivations that embed the source tree change with it.
    change = resolve_change(graph, drvs=[graph.drv_paths[r] for r in rows], commit=True)
    upper = _described(estimate(graph, change), f"--repoint {attribute}={target} (upper bound)")
    old_drvs = set(rows)
    sharing = Counter(
        graph.job_packages[k].split(".", 1)[0]
        for k in range(graph.job_count)
        if int(graph.job_drv[k]) in old_drvs and not graph.job_attrs[k].startswith(attribute + ".")
    )
    return Repointing(
        attribute=attribute,
        target=target,
        repointed_jobs={js: tuple(sorted(v)) for js, v in sorted(repointed.items())},
        unchanged_jobs={js: tuple(sorted(v)) for js, v in sorted(unchanged.items())},
        removed_jobs={js: tuple(sorted(v)) for js, v in sorted(removed.items())},
        added_jobs={js: tuple(sorted(v)) for js, v in sorted(added.items())},
        sharing=tuple(sorted(sharing)),
        upper=upper,
    )


def _described(result: RebuildEstimate, description: str) -> RebuildEstimate:
    change = replace(
        result.change,
        description=description,
        roots=tuple(
            r
            if r.kind is RootKind.SOURCE_TREE
            else Root(r.path, r.name, r.system, RootKind.GIVEN, "built by a job of the re-pointed attribute")
            for r in result.change.roots
        ),
    )
    return replace(result, change=change)
