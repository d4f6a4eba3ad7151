"""Loader for a snapshot folder: `jobs.jsonl[.gz]` (nix-eval-jobs lines) + `derivations.json[.gz]`
(`nix show-derivation -r` over every job's drvPath), the shape of the shared nixpkgs evaluations."""

from __future__ import annotations

from pathlib import Path

from impact.errors import InputError
from impact.loaders._checks import check_acyclic
from impact.loaders.eval_jobs import load_jobs
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
    return check_acyclic(DerivationGraph.from_records(load_derivations(drv_file), jobs, errors, origin=str(folder)))
