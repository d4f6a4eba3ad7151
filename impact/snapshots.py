"""The snapshots shipped with impact: their names, where their files are, and which one answers for a branch.

Each shipped snapshot is a compact `.impact` file made by `scripts/make-snapshots` from one real evaluation in
`../shared/data` (both Hydra jobsets of one nixpkgs branch at one commit). Its name is `<branch>-<date>`, e.g.
`master-2019-03-19`; its file is `nixpkgs-<name>.impact`, in the checkout's `data/` for an editable install and
under `<prefix>/share/impact/` for a plain `pip install .`.

`--snapshot` (and `$IMPACT_SNAPSHOT`) take a shipped name or a path; `resolve` turns either into a file.
`snapshot_for_base` picks the snapshot a `--base BRANCH` answer is computed on: the shipped snapshot of that
branch made near the time of the snapshot otherwise used, when there is one; `base_note` says which it was.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from impact.errors import UnknownNameError

if TYPE_CHECKING:
    from impact.model import DerivationGraph

#: Environment variable naming the snapshot (a shipped name or a path) used when none is given.
SNAPSHOT_ENV = "IMPACT_SNAPSHOT"
#: How far apart (in days) a base branch's snapshot and the snapshot otherwise used may be to stand for the same time.
SAME_TIME_DAYS = 60


@dataclass(frozen=True)
class ShippedSnapshot:
    """One snapshot shipped with impact: a nixpkgs branch evaluated at one commit."""

    #: The name `--snapshot` takes, e.g. `master-2019-03-19`.
    name: str
    #: The branch evaluated, e.g. `master`, `staging`, `release-19.03`.
    branch: str
    #: The nixpkgs commit evaluated.
    commit: str
    #: The date of that commit (ISO).
    date: str

    @property
    def file_name(self) -> str:
        """The file in data/: `nixpkgs-<name>.impact`."""
        return f"nixpkgs-{self.name}.impact"

    @property
    def source(self) -> str:
        """The folder of ../shared/data it is made from."""
        return f"nixpkgs-{self.name}"

    @property
    def label(self) -> str:
        """The label reports show, e.g. `nixpkgs master 2019-03-19 (8fce8a9)`."""
        return f"nixpkgs {self.branch} {self.date} ({self.commit[:7]})"

    @property
    def date_value(self) -> datetime.date:
        """The date as a `datetime.date`."""
        return datetime.date.fromisoformat(self.date)

    @property
    def path(self) -> Path:
        """Where its file is in this installation."""
        return data_dir() / self.file_name


#: Every shipped snapshot, newest first; the first is the default.
SHIPPED: tuple[ShippedSnapshot, ...] = (
    ShippedSnapshot("master-2019-03-19", "master", "8fce8a930cdb6385ac1a7cb941d13cfc7dfd51d7", "2019-03-19"),
    ShippedSnapshot(
        "release-19.03-2019-03-21", "release-19.03", "83734065f29dbeedf706e45c346858aea463b26f", "2019-03-21"
    ),
    ShippedSnapshot("master-2016-06-24", "master", "a1884e63797cbc5f13a5a42663fa109aa2a86481", "2016-06-24"),
    ShippedSnapshot(
        "release-16.03-2016-06-23", "release-16.03", "0067fa05388829050c926bded9b360ce15fb9b22", "2016-06-23"
    ),
    ShippedSnapshot("staging-2016-06-20", "staging", "14c038dd0390a9b24969f0138356b5c7520b9fdf", "2016-06-20"),
)
#: The snapshot used when none is named: nixpkgs master of 2019-03-19, just before the QEMU 9p fix was merged.
DEFAULT = SHIPPED[0]

_CHECKOUT_DATA = Path(__file__).resolve().parents[1] / "data"
_INSTALLED_DATA = Path(sys.prefix) / "share" / "impact"


def data_dir() -> Path:
    """The folder holding the shipped files: the checkout's data/ (editable install), else `<prefix>/share/impact`."""
    if (_CHECKOUT_DATA / DEFAULT.file_name).exists() or not (_INSTALLED_DATA / DEFAULT.file_name).exists():
        return _CHECKOUT_DATA
    return _INSTALLED_DATA


def names() -> list[str]:
    """The names of the shipped snapshots, newest first."""
    return [s.name for s in SHIPPED]


def find(name: str) -> ShippedSnapshot | None:
    """The shipped snapshot called `name` (its file name is accepted too), or None."""
    return next((s for s in SHIPPED if name in (s.name, s.file_name)), None)


def shipped(name: str) -> ShippedSnapshot:
    """The shipped snapshot called `name`; an unknown name raises an error listing the known ones."""
    found = find(name)
    if found is None:
        raise UnknownNameError(f"no shipped snapshot called {name!r}; shipped: {', '.join(names())}")
    return found


def _looks_like_a_name(text: str) -> bool:
    return os.sep not in text and "/" not in text and not text.endswith((".impact", ".json", ".gz", ".jsonl", ".drv"))


def resolve(snapshot: str | Path | None = None) -> Path:
    """The file or folder to load for `snapshot`: a path that exists, a shipped name, else `$IMPACT_SNAPSHOT`
    (itself a name or a path) when `snapshot` is None, else the default.

    A missing path is returned as is (the loader says it is missing); a missing name that looks like no path
    raises an error listing the shipped names.
    """
    if snapshot is None:
        snapshot = os.environ.get(SNAPSHOT_ENV) or DEFAULT.name
    text = str(snapshot)
    if Path(text).exists():
        return Path(text)
    found = find(text)
    if found is not None:
        return found.path
    if _looks_like_a_name(text):
        raise UnknownNameError(
            f"{text}: no such snapshot file and no shipped snapshot of that name; shipped: {', '.join(names())}"
        )
    return Path(text)


def _day(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def snapshot_for_base(snapshot: str | Path | None, base: str | None) -> Path:
    """The snapshot an answer for `--base base` is computed on.

    A snapshot given (`--snapshot`, or `$IMPACT_SNAPSHOT` naming a path) is used as is. Otherwise the reference
    is `$IMPACT_SNAPSHOT`'s shipped snapshot or the default, and a shipped snapshot of `base` made within
    `SAME_TIME_DAYS` of it replaces it: that branch's data at about the same time.
    """
    env = os.environ.get(SNAPSHOT_ENV)
    if snapshot is not None or base is None or (env and find(env) is None):
        return resolve(snapshot)
    reference = find(env) if env else DEFAULT
    assert reference is not None
    candidates = [s for s in SHIPPED if s.branch == base and _near(s, reference.date)]
    if reference.branch == base or not candidates:
        return reference.path
    return min(candidates, key=lambda s: abs(s.date_value - reference.date_value)).path


def _near(shipped: ShippedSnapshot, when: str | None) -> bool:
    a, b = _day(shipped.date), _day(when or "")
    return a is not None and b is not None and abs((a - b).days) <= SAME_TIME_DAYS


def base_note(meta: Mapping[str, str], base: str | None) -> str:
    """What a header says of `--base base` answered on a snapshot described by `meta` (its branch and date):
    empty without `base`, else whether the data is that branch's own, and which shipped snapshot of the same
    time would be."""
    if not base:
        return ""
    branch = meta.get("branch")
    if branch == base:
        return f"base {base}: answered on its own data"
    data = f"{branch}'s data" if branch else "data of an unknown branch"
    own = [s.name for s in SHIPPED if s.branch == base and _near(s, meta.get("date"))]
    hint = f"--snapshot {own[0]} holds {base}'s own" if own else f"no {base} snapshot of that time is shipped"
    return f"base {base}: {base}'s rules applied to {data} ({hint})"


def in_name_order(graph: DerivationGraph) -> DerivationGraph:
    """The same graph with its derivation rows sorted by name, system and path.

    Rows of one package on every system then sit together, and their names, inputs and fixed outputs repeat
    one another: the compact file of the 2019 evaluation is 7.6 MB in this order and 9.5 MB in store-path order.
    """
    from impact.model import DerivationGraph

    order = sorted(range(len(graph)), key=lambda i: (graph.names[i], graph.system_of(i), graph.drv_paths[i]))
    reordered = DerivationGraph.from_records(
        (graph.derivation(i) for i in order),
        (graph.job(k) for k in range(graph.job_count)),
        graph.eval_errors,
        origin=graph.origin,
    )
    reordered.meta.update(graph.meta)
    return reordered


@dataclass(frozen=True)
class SnapshotInfo:
    """What a snapshot holds: which nixpkgs it is, its systems, jobs per jobset and system, derivations."""

    #: The label reports show.
    label: str
    #: Where it was loaded from.
    origin: str
    #: The shipped name, when it is a shipped snapshot.
    name: str | None
    #: Branch, commit and date as recorded in the snapshot (empty when it records none).
    branch: str
    commit: str
    date: str
    #: Systems with jobs, most jobs first.
    systems: tuple[str, ...]
    #: Jobset → system → jobs.
    jobs: Mapping[str, Mapping[str, int]]
    #: Derivations, of which fixed-output.
    derivations: int
    fixed_output_derivations: int
    #: Input edges (derivation → input derivation).
    inputs: int
    #: Jobs whose evaluation failed.
    eval_errors: int
    #: True when the evaluated tree had changes beside its commit (`impact eval` of a modified work tree).
    modified: bool = False

    @property
    def job_count(self) -> int:
        """Jobs over every jobset and system."""
        return sum(n for per in self.jobs.values() for n in per.values())

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (`impact snapshot info --json`)."""
        return {
            "label": self.label,
            "origin": self.origin,
            "name": self.name,
            "branch": self.branch,
            "commit": self.commit,
            "date": self.date,
            "modified": self.modified,
            "systems": list(self.systems),
            "jobs": {js: dict(per) for js, per in self.jobs.items()},
            "job_count": self.job_count,
            "derivations": self.derivations,
            "fixed_output_derivations": self.fixed_output_derivations,
            "inputs": self.inputs,
            "eval_errors": self.eval_errors,
        }


def describe(graph: DerivationGraph) -> SnapshotInfo:
    """What `graph` holds, and its shipped name when it was loaded from a shipped file."""
    per: dict[str, dict[str, int]] = {}
    by_system: dict[str, int] = {}
    for jobset, system in zip(graph.job_jobsets, graph.job_systems):
        per.setdefault(jobset, {})
        per[jobset][system] = per[jobset].get(system, 0) + 1
        by_system[system] = by_system.get(system, 0) + 1
    origin = Path(graph.origin).name
    shipped_here = next((s for s in SHIPPED if s.file_name == origin), None)
    return SnapshotInfo(
        label=graph.label,
        origin=graph.origin,
        name=shipped_here.name if shipped_here else None,
        branch=graph.meta.get("branch", ""),
        commit=graph.meta.get("commit", ""),
        date=graph.meta.get("date", ""),
        systems=tuple(sorted(by_system, key=lambda s: (-by_system[s], s))),
        jobs={js: dict(sorted(systems.items())) for js, systems in per.items()},
        derivations=len(graph),
        fixed_output_derivations=int(graph.fixed_output.sum()),
        inputs=graph.edge_count,
        eval_errors=len(graph.eval_errors),
        modified=graph.meta.get("modified") == "yes",
    )
