"""Build durations: how long derivations took to build, from Hydra and from Nix.

Three formats, each a pure parse over text returning `DurationRecord`s, and `load_durations(path)` choosing
by content:

- Hydra's JSON API: `/build/N` objects (`starttime`, `stoptime`, `drvpath`, `job`, `system`, `buildstatus`,
  `timestamp`; one object or a list of them), and `/job/P/J/JOB/build-times` lists of `{id, timestamp, value}`
  (`value` in seconds). A bare build-times list does not say which job it is: save it as
  `<JOB>.build-times.json` (e.g. `qemu.x86_64-linux.build-times.json`) or wrap it as
  `{"job": "qemu.x86_64-linux", "build-times": [...]}`.
- A CSV export of Hydra's `builds` joined with `buildsteps`: columns `project, jobset, job, timestamp, drvpath,
  system, buildstatus, starttime, stoptime, machine` (times in Unix seconds, as Hydra stores them).
- Nix's build-result JSON (`nix build --json`, `nix-fast-build` …): a list of `{drvPath, startTime,
  stopTime}` (extra keys ignored; `status` `Substituted`/`AlreadyValid` means not built). Older Nix (2.8
  among them) prints no times at all: such results are counted in `DurationFile.untimed`.

A build that took zero seconds was not built but substituted (a cached build in Hydra's words); it says
nothing about how long a build takes, so it is kept out of the records and counted in `DurationFile.cached`.
Failed builds (a `buildstatus` other than 0) are likewise counted in `DurationFile.failed`: a build that
stopped early is no measure of one that succeeds. The standard `csv` and `json` modules are enough here.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impact.errors import InputError
from impact.loaders._io import parse_json, read_text
from impact.model import store_path

#: The columns a Hydra CSV export must have.
HYDRA_CSV_COLUMNS = (
    "project",
    "jobset",
    "job",
    "timestamp",
    "drvpath",
    "system",
    "buildstatus",
    "starttime",
    "stoptime",
    "machine",
)
#: Suffix naming a bare `/job/P/J/JOB/build-times` list saved to a file: `<JOB>.build-times.json`.
BUILD_TIMES_SUFFIX = ".build-times.json"


@dataclass(frozen=True, slots=True)
class DurationRecord:
    """One successful build and how long it took."""

    #: Wall-clock seconds from start to stop.
    seconds: float
    #: When it was built (Unix seconds); newer records win when several match.
    timestamp: float = 0.0
    #: The .drv path, when the source names it.
    drv_path: str | None = None
    #: The Hydra job attribute (`qemu.x86_64-linux`), when the source names it.
    job: str | None = None
    #: The system it was built for, when known.
    system: str | None = None
    #: The Hydra jobset (`nixpkgs`, `trunk`, …), when known.
    jobset: str | None = None
    #: The build machine, when known.
    machine: str | None = None
    #: Where the record came from, for messages (`file:line`).
    origin: str = ""


@dataclass(frozen=True, slots=True)
class DurationFile:
    """What one file gave: the usable records, and the builds left out and why."""

    #: The file.
    origin: str
    #: The format it was read as: `hydra-build`, `hydra-build-times`, `hydra-csv` or `nix-build-result`.
    format: str
    #: Successful builds with a positive duration.
    records: tuple[DurationRecord, ...]
    #: Builds with zero duration (substituted / cached): not evidence of a fast build.
    cached: int = 0
    #: Builds that did not succeed (or never finished).
    failed: int = 0
    #: Results that carry no times at all (older Nix's `nix build --json`).
    untimed: int = 0


def _number(value: Any, what: str, origin: str) -> float:
    if isinstance(value, bool) or value is None:
        raise InputError(f"{origin}: {what} is {value!r}, expected a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{origin}: {what} is {_short(value)}, expected a number") from None
    if not math.isfinite(number):
        raise InputError(f"{origin}: {what} is {_short(value)}, expected a finite number")
    return number


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _text(value: Any, what: str, origin: str) -> str | None:
    """A string field, None when absent or empty; any other type raises `InputError` naming it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{origin}: {what} is {_short(value)}, expected a string")
    return value


def _drv(value: Any) -> str | None:
    return store_path(value) if isinstance(value, str) and value and "\n" not in value else None


def parse_hydra_builds(value: Any, origin: str) -> DurationFile:
    """Records from Hydra `/build/N` JSON: one build object or a list of them."""
    builds = value if isinstance(value, list) else [value]
    records: list[DurationRecord] = []
    cached = failed = 0
    for n, b in enumerate(builds):
        where = f"{origin}[{n}]" if isinstance(value, list) else origin
        if not isinstance(b, dict) or "starttime" not in b or "stoptime" not in b:
            raise InputError(
                f"{where}: not a Hydra build (needs starttime and stoptime)",
                tip="save the answer of Hydra's /build/N with Accept: application/json",
            )
        if b.get("finished") in (0, False) or b.get("starttime") is None or b.get("stoptime") is None:
            failed += 1
            continue
        if b.get("buildstatus") not in (0, None):
            failed += 1
            continue
        seconds = _number(b["stoptime"], "stoptime", where) - _number(b["starttime"], "starttime", where)
        if seconds <= 0 or b.get("iscachedbuild") in (1, True):
            cached += 1
            continue
        records.append(
            DurationRecord(
                seconds=seconds,
                timestamp=_number(b.get("timestamp") or b["stoptime"], "timestamp", where),
                drv_path=_drv(b.get("drvpath")),
                job=_text(b.get("job"), "job", where),
                system=_text(b.get("system"), "system", where),
                jobset=_text(b.get("jobset"), "jobset", where),
                origin=where,
            )
        )
    return DurationFile(origin, "hydra-build", tuple(records), cached, failed)


def parse_hydra_build_times(points: Any, job: str, origin: str, *, jobset: str | None = None) -> DurationFile:
    """Records from a Hydra `/job/P/J/JOB/build-times` list of `{id, timestamp, value}` for the job `job`."""
    if not isinstance(points, list):
        raise InputError(f"{origin}: build-times must be a list of {{id, timestamp, value}}")
    records: list[DurationRecord] = []
    cached = 0
    system = job.rsplit(".", 1)[-1] if "-" in job.rsplit(".", 1)[-1] else None
    for n, p in enumerate(points):
        where = f"{origin}[{n}]"
        if not isinstance(p, dict) or "value" not in p:
            raise InputError(f"{where}: not a build-times point (needs id, timestamp, value)")
        seconds = _number(p["value"], "value", where)
        if seconds <= 0:
            cached += 1
            continue
        records.append(
            DurationRecord(
                seconds=seconds,
                timestamp=_number(p.get("timestamp", 0), "timestamp", where),
                job=job,
                system=system,
                jobset=jobset,
                origin=where,
            )
        )
    return DurationFile(origin, "hydra-build-times", tuple(records), cached, 0)


def parse_hydra_csv(text: str, origin: str) -> DurationFile:
    """Records from a CSV export of Hydra's `builds` + `buildsteps` (see `HYDRA_CSV_COLUMNS`)."""
    try:
        return _parse_hydra_csv(text, origin)
    except csv.Error as e:
        raise InputError(f"{origin}: not a readable CSV file ({e})") from None


def _parse_hydra_csv(text: str, origin: str) -> DurationFile:
    reader = csv.DictReader(io.StringIO(text), restval="")
    missing = [c for c in HYDRA_CSV_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InputError(
            f"{origin}: not a Hydra CSV export, missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            tip="export " + ", ".join(HYDRA_CSV_COLUMNS) + " from Hydra's builds joined with buildsteps",
        )
    records: list[DurationRecord] = []
    cached = failed = 0
    for row in reader:
        where = f"{origin}:{reader.line_num}"
        if None in row:
            raise InputError(f"{where}: more fields than the header names")
        status, start, stop = (
            (row["buildstatus"] or "").strip(),
            (row["starttime"] or "").strip(),
            (row["stoptime"] or "").strip(),
        )
        if status not in ("0", "") or not start or not stop:
            failed += 1
            continue
        seconds = _number(stop, "stoptime", where) - _number(start, "starttime", where)
        if seconds <= 0:
            cached += 1
            continue
        drv = _drv((row["drvpath"] or "").strip())
        records.append(
            DurationRecord(
                seconds=seconds,
                timestamp=_number(row["timestamp"] or stop, "timestamp", where),
                drv_path=drv,
                # A build step's drvpath is the dependency it built, while `job` names the build it served:
                # the job describes the record only when no drvpath does.
                job=None if drv else (row["job"].strip() or None),
                system=row["system"].strip() or None,
                jobset=row["jobset"].strip() or None,
                machine=row["machine"].strip() or None,
                origin=where,
            )
        )
    return DurationFile(origin, "hydra-csv", tuple(records), cached, failed)


def parse_nix_build_results(value: Any, origin: str) -> DurationFile:
    """Records from Nix's build-result JSON: a list of `{drvPath, startTime, stopTime, …}`."""
    results = value if isinstance(value, list) else [value]
    records: list[DurationRecord] = []
    cached = failed = untimed = 0
    for n, r in enumerate(results):
        where = f"{origin}[{n}]"
        if not isinstance(r, dict) or "drvPath" not in r:
            raise InputError(
                f"{where}: not a Nix build result (needs drvPath)", tip="use the output of `nix build --json`"
            )
        if r.get("success") is False:
            failed += 1
            continue
        if r.get("status") in ("Substituted", "AlreadyValid"):
            cached += 1
            continue
        if "startTime" not in r and "stopTime" not in r:
            untimed += 1
            continue
        start, stop = r.get("startTime"), r.get("stopTime")
        seconds = _number(stop, "stopTime", where) - _number(start, "startTime", where) if start and stop else 0.0
        if seconds <= 0:
            cached += 1
            continue
        records.append(
            DurationRecord(
                seconds=seconds, timestamp=_number(stop, "stopTime", where), drv_path=_drv(r["drvPath"]), origin=where
            )
        )
    return DurationFile(origin, "nix-build-result", tuple(records), cached, failed, untimed)


def parse_durations(text: str, origin: str, *, job: str | None = None) -> DurationFile:
    """Records from the text of a durations file in any supported format, recognised by its content."""
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        return parse_hydra_csv(text, origin)
    value = parse_json(text, origin)
    sample = value[0] if isinstance(value, list) and value else value
    if isinstance(value, dict) and "build-times" in value:
        name = value.get("job") or job
        if not name:
            raise InputError(
                f"{origin}: build-times without a job", tip='add "job": "<attr>.<system>" next to "build-times"'
            )
        return parse_hydra_build_times(
            value["build-times"],
            _text(name, "job", origin) or "",
            origin,
            jobset=_text(value.get("jobset"), "jobset", origin),
        )
    if isinstance(value, list) and not value:
        return DurationFile(origin, "empty", ())
    if isinstance(sample, dict) and "drvPath" in sample:
        return parse_nix_build_results(value, origin)
    if isinstance(sample, dict) and "starttime" in sample:
        return parse_hydra_builds(value, origin)
    if isinstance(sample, dict) and "value" in sample and "timestamp" in sample:
        if not job:
            raise InputError(
                f"{origin}: a build-times list does not name its job",
                tip=f"save it as <job>{BUILD_TIMES_SUFFIX} (e.g. qemu.x86_64-linux{BUILD_TIMES_SUFFIX})"
                ' or wrap it as {"job": …, "build-times": […]}',
            )
        return parse_hydra_build_times(value, job, origin)
    raise InputError(
        f"{origin}: unknown durations format",
        tip="give Hydra /build/N JSON, Hydra build-times JSON, a Hydra CSV export or `nix build --json` output",
    )


def load_durations(path: Path | str) -> DurationFile:
    """Read a durations file (Hydra JSON or CSV, Nix build results), gzip or not."""
    path = Path(path)
    job = path.name[: -len(BUILD_TIMES_SUFFIX)] if path.name.endswith(BUILD_TIMES_SUFFIX) else None
    return parse_durations(read_text(path), str(path), job=job)


def load_all(paths: Iterable[Path | str]) -> tuple[DurationFile, ...]:
    """Read several durations files."""
    return tuple(load_durations(p) for p in paths)
