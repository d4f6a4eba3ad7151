"""Loader for nix-eval-jobs JSON lines (`--meta`), with an optional `jobset` field per line.

A line carrying `error` is an evaluation error (a throw or an assert): recorded, never fatal, as on Hydra.
Every field read is checked for its type, and a bad one is named with its file, line and job. A jobset holds
each attribute once: a line repeated word for word (a log concatenated twice) is counted once; two different
lines for one attribute are refused, since which one Hydra would build is unknowable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from impact.errors import InputError
from impact.loaders._io import field, parse_json, read_text
from impact.loaders.aterm import is_drv_path
from impact.model import EvalError, Job, store_path


def parse_job_lines(
    lines: Iterable[str], origin: str = "<jobs>", default_jobset: str = "nixpkgs"
) -> tuple[list[Job], list[EvalError]]:
    """Parse nix-eval-jobs lines into jobs and evaluation errors; blank lines are skipped."""
    jobs: dict[tuple[str, str], Job] = {}
    errors: list[EvalError] = []
    seen_at: dict[tuple[str, str], int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        record = parse_json(line, where)
        if not isinstance(record, Mapping):
            raise InputError(f"{where}: expected a JSON object per line")
        attr = _attr(record, where)
        jobset = field(record, "jobset", str, f"{where}: job {attr}", default_jobset) or default_jobset
        if "error" in record:
            error = record["error"]
            errors.append(EvalError(attr=attr, error=error if isinstance(error, str) else str(error), jobset=jobset))
            continue
        job = _job(record, attr, jobset, where)
        key = (jobset, attr)
        if key in jobs:
            if jobs[key] != job:
                raise InputError(
                    f"{where}: job {attr} of jobset {jobset} is listed again, differently "
                    f"(first at line {seen_at[key]})",
                    tip="a jobset holds each attribute once; export the evaluation again",
                )
            continue
        jobs[key] = job
        seen_at[key] = number
    return list(jobs.values()), errors


def _attr(record: Mapping[str, Any], where: str) -> str:
    attr = record.get("attr")
    if isinstance(attr, str) and attr:
        return attr
    path = record.get("attrPath")
    if not isinstance(path, list) or not path or not all(isinstance(p, str) for p in path):
        raise InputError(f"{where}: a job needs `attr` (a string) or `attrPath` (a list of strings)")
    return ".".join(path)


def _store_path_field(record: Mapping[str, Any], key: str, where: str) -> str:
    value = field(record, key, str, where)
    if not value or "\n" in value or "\0" in value:
        raise InputError(f"{where}: field `{key}` is not a store path")
    return store_path(value)


def _job(record: Mapping[str, Any], attr: str, jobset: str, where: str) -> Job:
    job_where = f"{where}: job {attr}"
    drv = _store_path_field(record, "drvPath", job_where)
    if not is_drv_path(drv):  # it names the file read next (the .drv in the store)
        raise InputError(f"{job_where}: field `drvPath` {drv[:120]!r} is not the store path of a .drv file")
    system = field(record, "system", str, job_where)
    meta = field(record, "meta", Mapping, job_where, {})
    outputs = field(record, "outputs", Mapping, job_where, {})
    for name, path in outputs.items():
        if path is not None and not isinstance(path, str):
            raise InputError(f"{job_where}: output `{name}` is not a store path string")
    position = meta.get("position")
    maintainers = field(meta, "maintainers", list, f"{job_where} meta", [])
    return Job(
        attr=attr,
        system=system,
        jobset=jobset,
        drv_path=drv,
        name=field(record, "name", str, job_where, ""),
        outputs={k: store_path(v) if v else "" for k, v in outputs.items()},
        position=position if isinstance(position, str) else None,
        maintainers=tuple(_maintainer(m) for m in maintainers),
    )


def _maintainer(m: Any) -> str:
    if isinstance(m, Mapping):
        for key in ("github", "name", "email"):
            if isinstance(m.get(key), str) and m[key]:
                return m[key]
        return "?"
    return m if isinstance(m, str) else "?"


def load_jobs(path: Path, default_jobset: str = "nixpkgs") -> tuple[list[Job], list[EvalError]]:
    """Read a nix-eval-jobs lines file (plain or gzipped)."""
    return parse_job_lines(read_text(path).splitlines(), str(path), default_jobset)
