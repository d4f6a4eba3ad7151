"""Hydra's build results for two evaluations: which jobs newly fail, which newly succeed, and a verdict.

The question is the one release managers ask before a backport: "no new breaking builds from Hydra?" A job
*newly fails* when it succeeded in BASE and finished with a failure in HEAD; it *newly succeeds* the other way
round. A failure is either the job's own (`failed`, `failed with output`, `log/output limit exceeded`,
`not deterministic`), a *dependency failed* (the job's own build never ran: fix the dependency), or
*transient* (`aborted`, `cancelled`, `timed out`: restart it before judging). Builds still queued in HEAD, and
jobs only HEAD has that fail, are counted apart. The verdict:

- `wait` when HEAD still has queued builds of jobs BASE had (the answer may change);
- `breaks` when a job newly fails for its own or a dependency's reason;
- `restart` when the only new failures are transient;
- `ok` otherwise: no new breaking builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from impact.loaders.hydra_builds import HydraBuild

SUCCESS = 0
DEPENDENCY_FAILED = 2
#: Results worth a restart before judging: aborted, cancelled, timed out.
TRANSIENT = frozenset({3, 4, 7})


@dataclass(frozen=True, slots=True)
class JobResult:
    """One job's results in BASE and HEAD."""

    job: str
    system: str
    #: BASE's result in words, or None when BASE has no such job.
    base: str | None
    #: HEAD's result in words.
    head: str
    #: HEAD's build (for its id, drv path and name).
    build: HydraBuild

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "job": self.job,
            "system": self.system,
            "base": self.base,
            "head": self.head,
            "buildstatus": self.build.buildstatus,
            "id": self.build.id,
            "drvpath": self.build.drvpath or None,
            "nixname": self.build.nixname or None,
        }


@dataclass(frozen=True)
class HydraComparison:
    """What changed in Hydra's results between two evaluations, and the verdict."""

    base_label: str
    head_label: str
    #: Builds in BASE and in HEAD.
    base_builds: int
    head_builds: int
    #: Succeeded in BASE, failed in HEAD for the job's own reason or a dependency's, sorted.
    newly_failing: tuple[JobResult, ...]
    #: Succeeded in BASE, aborted/cancelled/timed out in HEAD.
    transient: tuple[JobResult, ...]
    #: Failed in BASE, succeeded in HEAD.
    newly_succeeding: tuple[JobResult, ...]
    #: HEAD builds not finished yet, of jobs BASE had.
    queued: tuple[JobResult, ...]
    #: Jobs only HEAD has whose build failed.
    new_jobs_failing: tuple[JobResult, ...]
    #: Jobs failing in both.
    still_failing: int

    @property
    def verdict(self) -> str:
        """`wait`, `breaks`, `restart` or `ok` (see the module docstring)."""
        return verdict_of(len(self.queued), len(self.newly_failing), len(self.transient))

    @property
    def dependency_failures(self) -> int:
        """Newly failing jobs whose own build never ran: a dependency failed."""
        return sum(1 for r in self.newly_failing if r.build.buildstatus == DEPENDENCY_FAILED)

    @property
    def verdict_text(self) -> str:
        """The verdict in one sentence a release manager can act on."""
        return verdict_sentence(
            len(self.queued), len(self.newly_failing), self.dependency_failures, len(self.transient)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (`impact hydra-compare --format json`)."""
        return {
            "base": self.base_label,
            "head": self.head_label,
            "builds": {"base": self.base_builds, "head": self.head_builds},
            "verdict": self.verdict,
            "verdict_text": self.verdict_text,
            "newly_failing": [r.to_dict() for r in self.newly_failing],
            "transient": [r.to_dict() for r in self.transient],
            "newly_succeeding": [r.to_dict() for r in self.newly_succeeding],
            "queued": [r.to_dict() for r in self.queued],
            "new_jobs_failing": [r.to_dict() for r in self.new_jobs_failing],
            "still_failing": self.still_failing,
        }


def _jobs(n: int) -> str:
    return f"{n:,} job{'' if n == 1 else 's'}"


def verdict_of(queued: int, newly_failing: int, transient: int) -> str:
    """`wait`, `breaks`, `restart` or `ok` from how many jobs are queued, newly failing, failing transiently."""
    if queued:
        return "wait"
    if newly_failing:
        return "breaks"
    if transient:
        return "restart"
    return "ok"


def verdict_sentence(queued: int, newly_failing: int, dependency_failures: int, transient: int) -> str:
    """The verdict of these counts in one sentence a release manager can act on."""
    note = f" ({dependency_failures:,} because a dependency failed)" if dependency_failures else ""
    return {
        "wait": f"Wait: {_jobs(queued)} of HEAD not built yet; the answer may change.",
        "breaks": f"Not ready: {_jobs(newly_failing)} that succeeded in BASE fail in HEAD{note}; "
        "fix them or mark them broken first.",
        "restart": f"Restart {_jobs(transient)} (aborted, cancelled or timed out) before deciding.",
        "ok": "No new breaking builds from Hydra.",
    }[verdict_of(queued, newly_failing, transient)]


def compare_builds(
    base: Mapping[tuple[str, str], HydraBuild],
    head: Mapping[tuple[str, str], HydraBuild],
    *,
    base_label: str = "BASE",
    head_label: str = "HEAD",
) -> HydraComparison:
    """Compare two evaluations' builds ((job, system) → latest build) job by job."""
    failing: list[JobResult] = []
    transient: list[JobResult] = []
    fixed: list[JobResult] = []
    queued: list[JobResult] = []
    new_failing: list[JobResult] = []
    still = 0
    for key in sorted(head):
        h = head[key]
        b = base.get(key)
        result = JobResult(key[0], key[1], b.status if b else None, h.status, h)
        done = h.finished and h.buildstatus is not None
        if b is None:
            if done and h.buildstatus != SUCCESS:
                new_failing.append(result)
            continue
        was_ok = b.finished and b.buildstatus == SUCCESS
        was_failed = b.finished and b.buildstatus not in (None, SUCCESS)
        if not done:
            queued.append(result)
        elif h.buildstatus == SUCCESS:
            if was_failed:
                fixed.append(result)
        elif was_ok:
            (transient if h.buildstatus in TRANSIENT else failing).append(result)
        elif was_failed:
            still += 1
    return HydraComparison(
        base_label=base_label,
        head_label=head_label,
        base_builds=len(base),
        head_builds=len(head),
        newly_failing=tuple(failing),
        transient=tuple(transient),
        newly_succeeding=tuple(fixed),
        queued=tuple(queued),
        new_jobs_failing=tuple(new_failing),
        still_failing=still,
    )
