"""Matching build records (Hydra, `nix build --json`) to the derivations of a snapshot.

See `impact.analysis.cost` for the whole model."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from impact.analysis.change import package_name
from impact.analysis.cost.model import (
    DEFAULT_MODEL,
    MEDIAN_MIN_SAMPLES,
    MEDIAN_SECONDS,
    model_rule,
)
from impact.loaders.durations import DurationFile, DurationRecord
from impact.model import DerivationGraph, path_name


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
