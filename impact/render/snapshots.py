"""Text and JSON for `impact snapshot list` and `impact snapshot info`."""

from __future__ import annotations

from collections.abc import Sequence

from impact.render.json import dumps
from impact.render.text import table
from impact.snapshots import DEFAULT, ShippedSnapshot, SnapshotInfo


def _size(snapshot: ShippedSnapshot) -> str:
    path = snapshot.path
    return f"{path.stat().st_size / 1e6:.1f} MB" if path.exists() else "missing"


def list_text(shipped: Sequence[ShippedSnapshot]) -> str:
    """One row per shipped snapshot: name, branch, date, commit, file size; the default marked."""
    rows = [
        [s.name + (" (default)" if s == DEFAULT else ""), s.branch, s.date, s.commit[:12], _size(s)] for s in shipped
    ]
    folder = shipped[0].path.parent if shipped else ""
    return (
        table(rows, ["name", "branch", "date", "commit", "file"], right_from=4)
        + f"\n\nfiles in {folder}; use one with --snapshot NAME or IMPACT_SNAPSHOT=NAME"
    )


def list_json(shipped: Sequence[ShippedSnapshot]) -> str:
    """The shipped snapshots as a JSON list."""
    return dumps(
        [
            {
                "name": s.name,
                "branch": s.branch,
                "commit": s.commit,
                "date": s.date,
                "default": s == DEFAULT,
                "path": str(s.path),
                "bytes": s.path.stat().st_size if s.path.exists() else None,
            }
            for s in shipped
        ]
    )


def info_text(info: SnapshotInfo) -> str:
    """What a snapshot is (name, branch, commit, date), its systems, jobs per jobset and system, derivations."""
    what = [
        f"{info.label}" + (f"  (shipped as {info.name})" if info.name else ""),
        f"branch {info.branch or 'unknown'}, commit {info.commit or 'unknown'}"
        + (" with changes not committed" if info.modified else "")
        + f", date {info.date or 'unknown'}",
        f"systems: {', '.join(info.systems) or 'none'}",
        f"{info.derivations:,} derivations ({info.fixed_output_derivations:,} fixed-output), {info.inputs:,} inputs, "
        f"{info.job_count:,} jobs, {info.eval_errors:,} evaluation errors",
    ]
    rows: list[list[object]] = [[js, sy, n] for js, per in info.jobs.items() for sy, n in per.items()]
    rows += [[js, "all", sum(per.values())] for js, per in info.jobs.items() if len(per) > 1]
    rows.sort(key=lambda r: (str(r[0]), r[1] == "all", str(r[1])))
    return "\n".join([*what, "", table(rows, ["jobset", "system", "jobs"], right_from=2)])


def info_json(info: SnapshotInfo) -> str:
    """`impact snapshot info --json`."""
    return dumps(info.to_dict())
