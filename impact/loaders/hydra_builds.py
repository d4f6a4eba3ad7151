"""Loader for one Hydra evaluation's builds: the JSON `/eval/<id>/builds` returns, or the `builds` table as CSV.

Hydra's JSON API (`curl -H 'Accept: application/json' https://hydra.nixos.org/eval/<id>/builds`) returns a list
of build objects; its database keeps the same columns in the `builds` table, which `psql -c "\\copy (select …
from builds …) to 'builds.csv' csv header"` exports. Only these fields are read (any others are ignored):

- `job`: the job name, e.g. `hello.x86_64-linux` (required);
- `system`: e.g. `x86_64-linux` (required);
- `finished`: 1/true once the build is done, 0/false while queued (required);
- `buildstatus`: Hydra's result code once finished, empty/null before (see `BUILD_STATUS`);
- `drvpath`, `nixname`, `id`, `jobset`, `project`: kept to name and link the build (optional).

A file may hold the same job twice (a job re-built in a later evaluation); the build with the highest `id`
(the last one when there is no id) is the one kept, as Hydra's evaluation page shows its latest build.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impact.errors import InputError

#: Hydra's `buildstatus` codes (hydra-queue-runner's BuildStatus; 8 is a build step's cached failure).
BUILD_STATUS: dict[int, str] = {
    0: "succeeded",
    1: "failed",
    2: "dependency failed",
    3: "aborted",
    4: "cancelled",
    6: "failed with output",
    7: "timed out",
    8: "cached failure",
    9: "unsupported system type",
    10: "log limit exceeded",
    11: "output limit exceeded",
    12: "not deterministic",
}
#: Files bigger than this are refused (a whole nixpkgs evaluation is ~60 MB of JSON).
MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HydraBuild:
    """One build of a Hydra evaluation."""

    job: str
    system: str
    finished: bool
    #: Hydra's result code, None while unfinished.
    buildstatus: int | None
    drvpath: str = ""
    nixname: str = ""
    id: int | None = None

    @property
    def status(self) -> str:
        """The result in words: `succeeded`, `failed`, … or `queued`."""
        if not self.finished or self.buildstatus is None:
            return "queued"
        return BUILD_STATUS.get(self.buildstatus, f"status {self.buildstatus}")


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "t", "true"):
        return True
    if text in ("0", "f", "false", ""):
        return False
    raise InputError(f"{where}: `finished` is {value!r}, not 0/1/true/false", tip="export Hydra's builds as they are")


def _int(value: Any, field: str, where: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InputError(f"{where}: `{field}` is {value!r}, not a number", tip="export Hydra's builds as they are")
    try:
        return int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InputError(
            f"{where}: `{field}` is {value!r}, not a number", tip="export Hydra's builds as they are"
        ) from None


def _text(record: dict[str, Any], field: str, where: str, required: bool = False) -> str:
    value = record.get(field)
    if value is None or value == "":
        if required:
            raise InputError(f"{where}: no `{field}`", tip="each build needs job, system and finished")
        return ""
    if not isinstance(value, str | int):
        raise InputError(f"{where}: `{field}` is not text", tip="export Hydra's builds as they are")
    return str(value)


def _build(record: Any, where: str) -> HydraBuild:
    if not isinstance(record, dict):
        raise InputError(f"{where}: a build is not an object", tip="give the list /eval/<id>/builds returns")
    if "finished" not in record:
        raise InputError(f"{where}: no `finished`", tip="each build needs job, system and finished")
    return HydraBuild(
        job=_text(record, "job", where, required=True),
        system=_text(record, "system", where, required=True),
        finished=_bool(record["finished"], where),
        buildstatus=_int(record.get("buildstatus"), "buildstatus", where),
        drvpath=_text(record, "drvpath", where),
        nixname=_text(record, "nixname", where),
        id=_int(record.get("id"), "id", where),
    )


def parse_hydra_builds(text: str, source: str = "<builds>") -> dict[tuple[str, str], HydraBuild]:
    """(job, system) → the latest build, from JSON (a list, or `{"builds": [...]}`) or CSV with a header."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
        if isinstance(data, dict):
            data = data.get("builds")
        if not isinstance(data, list):
            raise InputError(f"{source}: expected a list of builds", tip="give the list /eval/<id>/builds returns")
        records = [(_build(r, f"{source}: build {n + 1}")) for n, r in enumerate(data)]
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            missing = {"job", "system", "finished"} - set(reader.fieldnames or ())
            if missing:
                raise InputError(
                    f"{source}: not Hydra builds (JSON, or CSV with a header): no column {', '.join(sorted(missing))}",
                    tip="export the builds table with a header row, or save /eval/<id>/builds as JSON",
                )
            records = [_build(row, f"{source}: line {reader.line_num}") for row in reader]
        except csv.Error as e:
            raise InputError(f"{source}: line {reader.line_num}: not valid CSV ({e})") from None
    latest: dict[tuple[str, str], HydraBuild] = {}
    for n, b in enumerate(records):
        key = (b.job, b.system)
        old = latest.get(key)
        if old is None or (b.id if b.id is not None else n) >= (old.id if old.id is not None else -1):
            latest[key] = b
    return latest


def load_hydra_builds(path: Path) -> dict[tuple[str, str], HydraBuild]:
    """Read an evaluation's builds from `path` (JSON as Hydra's API returns them, or CSV of the `builds` table)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"{path}: {size:,} bytes is too big for one evaluation's builds")
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}", tip="give a file of Hydra builds") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text", tip="give Hydra's JSON or a CSV export") from None
    return parse_hydra_builds(text, str(path))
