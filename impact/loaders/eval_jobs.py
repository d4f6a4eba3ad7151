"""Loader for nix-eval-jobs JSON lines (`--meta`), with an optional `jobset` field per line.

A line carrying `error` is an evaluation error (a throw or an assert): recorded, never fatal, as on Hydra.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from impact.errors import InputError
from impact.loaders._io import parse_json, read_text
from impact.model import EvalError, Job, store_path


def parse_job_lines(
    lines: Iterable[str], origin: str = "<jobs>", default_jobset: str = "nixpkgs"
) -> tuple[list[Job], list[EvalError]]:
    """Parse nix-eval-jobs lines into jobs and evaluation errors; blank lines are skipped."""
    jobs: list[Job] = []
    errors: list[EvalError] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = parse_json(line, f"{origin}:{number}")
        if not isinstance(record, Mapping):
            raise InputError(f"{origin}:{number}: expected a JSON object per line")
        attr = record.get("attr")
        if not isinstance(attr, str):
            path = record.get("attrPath")
            if not isinstance(path, list):
                raise InputError(f"{origin}:{number}: a job needs `attr` or `attrPath`")
            attr = ".".join(map(str, path))
        jobset = record.get("jobset") or default_jobset
        if "error" in record:
            errors.append(EvalError(attr=attr, error=str(record["error"]), jobset=jobset))
            continue
        jobs.append(_job(record, attr, jobset, f"{origin}:{number}"))
    return jobs, errors


def _job(record: Mapping[str, Any], attr: str, jobset: str, where: str) -> Job:
    drv = record.get("drvPath")
    system = record.get("system")
    if not isinstance(drv, str) or not isinstance(system, str):
        raise InputError(f"{where}: job {attr} has no `drvPath` or `system`")
    meta = record.get("meta") or {}
    outputs = record.get("outputs") or {}
    if not isinstance(meta, Mapping) or not isinstance(outputs, Mapping):
        raise InputError(f"{where}: job {attr} has a `meta` or `outputs` of unknown shape")
    return Job(
        attr=attr,
        system=system,
        jobset=jobset,
        drv_path=store_path(drv),
        name=str(record.get("name", "")),
        outputs={k: store_path(v) if v else "" for k, v in outputs.items()},
        position=meta.get("position") if isinstance(meta.get("position"), str) else None,
        maintainers=tuple(_maintainer(m) for m in meta.get("maintainers") or ()),
    )


def _maintainer(m: Any) -> str:
    if isinstance(m, Mapping):
        return str(m.get("github") or m.get("name") or m.get("email") or "?")
    return str(m)


def load_jobs(path: Path, default_jobset: str = "nixpkgs") -> tuple[list[Job], list[EvalError]]:
    """Read a nix-eval-jobs lines file (plain or gzipped)."""
    return parse_job_lines(read_text(path).splitlines(), str(path), default_jobset)
