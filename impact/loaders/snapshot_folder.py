"""Loader for a snapshot folder: `jobs.jsonl[.gz]` (nix-eval-jobs lines) + `derivations.json[.gz]`
(`nix show-derivation -r` over every job's drvPath), the shape of the shared nixpkgs evaluations, and the
commit, branch and date of the tree from `eval.json` when `impact eval` wrote one."""

from __future__ import annotations

from pathlib import Path

from impact.errors import InputError
from impact.loaders._checks import check_acyclic
from impact.loaders.eval_jobs import load_jobs
from impact.loaders.merge import EVAL_INFO
from impact.loaders.show_derivation import load_derivations
from impact.model import DerivationGraph

JOBS_FILES = ("jobs.jsonl.gz", "jobs.jsonl")
DERIVATIONS_FILES = ("derivations.json.gz", "derivations.json")


def _find(folder: Path, candidates: tuple[str, ...]) -> Path | None:
    return next((folder / c for c in candidates if (folder / c).is_file()), None)


def is_snapshot_folder(folder: Path) -> bool:
    """True when `folder` holds a jobs file and a derivations file."""
    return folder.is_dir() and _find(folder, JOBS_FILES) is not None and _find(folder, DERIVATIONS_FILES) is not None


def load_snapshot_folder(folder: Path) -> DerivationGraph:
    """Load jobs and derivations from a snapshot folder into one graph."""
    jobs_file = _find(folder, JOBS_FILES)
    drv_file = _find(folder, DERIVATIONS_FILES)
    if jobs_file is None or drv_file is None:
        raise InputError(
            f"{folder}: not a snapshot folder (needs {JOBS_FILES[0]} and {DERIVATIONS_FILES[0]})",
            tip="make one with `impact eval`, or pass a compact .impact snapshot",
        )
    jobs, errors = load_jobs(jobs_file)
    graph = check_acyclic(DerivationGraph.from_records(load_derivations(drv_file), jobs, errors, origin=str(folder)))
    graph.meta.update(eval_source(folder))
    return graph


#: The most bytes of `eval.json` read: it holds settings and the source, a few hundred bytes.
_EVAL_INFO_BYTES = 1 << 20


def eval_source(folder: Path) -> dict[str, str]:
    """The commit, branch and date `impact eval` recorded in the folder's `eval.json` (`source`), each kept only
    when it passes `impact.gitinfo.checked`; empty without one. A damaged eval.json is refused."""
    import os

    from impact import gitinfo
    from impact.loaders._io import open_regular, parse_json

    path = folder / EVAL_INFO
    if not path.is_file():
        return {}
    with os.fdopen(open_regular(path), "rb") as f:
        raw = f.read(_EVAL_INFO_BYTES + 1)
    if len(raw) > _EVAL_INFO_BYTES:
        raise InputError(f"{path}: longer than {_EVAL_INFO_BYTES:,} bytes", tip="make it with impact eval")
    info = parse_json(raw, str(path))
    return gitinfo.checked(info.get("source") if isinstance(info, dict) else None)
