"""Evaluating nixpkgs with real Nix into a snapshot folder, and getting checkouts of git refs to evaluate.

`evaluate_checkout` runs `impact.nix.eval_release` (restricted, no import-from-derivation, time and memory
limits) and `nix show-derivation -r` over every job, then writes the snapshot folder the loaders read:
`jobs.jsonl.gz` (nix-eval-jobs lines with `jobset`, `meta.position` relative to the checkout) and
`derivations.json.gz` (`env` trimmed to the keys the shared evaluations keep), each written atomically.

`export_ref` puts the tree of a git ref into a folder with `git archive` and the standard library's tarfile
(with its `data` filter, which refuses links and paths that leave the folder): no worktree bookkeeping in
the user's repository, and no `.git` in the evaluated tree (whose store copy would change with it).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impact.errors import InputError
from impact.nix import Limits, Nix, eval_release, eval_release_with_eval_jobs

#: The `env` keys kept in derivations.json.gz, as in the shared evaluations.
ENV_KEYS = (
    "name",
    "pname",
    "version",
    "outputs",
    "requiredSystemFeatures",
    "preferLocalBuild",
    "allowSubstitutes",
    "outputHash",
    "outputHashAlgo",
    "outputHashMode",
    "enableParallelBuilding",
)
#: What makes a folder a nixpkgs checkout.
RELEASE_FILE = Path("pkgs") / "top-level" / "release.nix"


@dataclass(frozen=True)
class EvalSummary:
    """What an evaluation wrote."""

    #: The snapshot folder.
    output: Path
    #: Jobs per jobset.
    jobs: dict[str, int]
    #: Jobs whose evaluation failed (recorded as error lines).
    errors: int
    #: Derivations in the closure of all jobs.
    derivations: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"output": str(self.output), "jobs": self.jobs, "errors": self.errors, "derivations": self.derivations}


def is_checkout(folder: Path) -> bool:
    """True when `folder` looks like a nixpkgs checkout (it has pkgs/top-level/release.nix)."""
    return (folder / RELEASE_FILE).is_file()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once (`impact.writing.write_atomic`: nothing half-written, no temp left)."""
    from impact import writing

    writing.write_atomic(path, data)


def _relative_position(position: Any, root: str) -> Any:
    if isinstance(position, str) and position.startswith(root + "/"):
        return position[len(root) + 1 :]
    return position


def evaluate_checkout(
    checkout: Path,
    output: Path,
    nix: Nix,
    *,
    systems: Sequence[str],
    nixos: bool = False,
    limits: Limits = Limits(),
    on_job: Callable[[int], None] | None = None,
    evaluator: str = "nix-instantiate",
    workers: int = 1,
) -> EvalSummary:
    """Evaluate the Hydra jobs of `checkout` and write the snapshot folder `output`.

    `evaluator` is `nix-instantiate` (the shipped jobs.nix, one process) or `nix-eval-jobs` (`workers` in
    parallel; it must be on PATH).
    """
    checkout = checkout.resolve()
    if not is_checkout(checkout):
        raise InputError(
            f"{checkout}: not a nixpkgs checkout (no {RELEASE_FILE})", tip="give the top folder of nixpkgs"
        )
    if evaluator == "nix-eval-jobs":
        lines = eval_release_with_eval_jobs(
            nix, checkout, systems, nixos=nixos, limits=limits, on_job=on_job, workers=workers
        )
    elif evaluator == "nix-instantiate":
        lines = eval_release(nix, checkout, systems, nixos=nixos, limits=limits, on_job=on_job)
    else:
        raise InputError(f"unknown evaluator {evaluator!r}", tip="use nix-instantiate or nix-eval-jobs")
    root = str(checkout)
    for line in lines:
        meta = line.get("meta")
        if isinstance(meta, dict) and "position" in meta:
            meta["position"] = _relative_position(meta["position"], root)
    drvs = [line["drvPath"] for line in lines if "drvPath" in line]
    derivations = nix.show_derivation(drvs) if drvs else {}
    for value in (derivations.get("derivations") or derivations).values():
        if isinstance(value, dict) and isinstance(value.get("env"), dict):
            value["env"] = {k: v for k, v in value["env"].items() if k in ENV_KEYS}
    jobs_text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)
    write_atomic(output / "jobs.jsonl.gz", gzip.compress(jobs_text.encode(), mtime=0))
    write_atomic(
        output / "derivations.json.gz", gzip.compress(json.dumps(derivations, sort_keys=True).encode(), mtime=0)
    )
    per: dict[str, int] = {}
    for line in lines:
        if "error" not in line:
            per[line.get("jobset", "nixpkgs")] = per.get(line.get("jobset", "nixpkgs"), 0) + 1
    return EvalSummary(
        output=output,
        jobs=per,
        errors=sum(1 for line in lines if "error" in line),
        derivations=len(derivations.get("derivations") or derivations),
    )


def export_ref(repo: Path, ref: str, dest: Path) -> str:
    """Write the tree of git `ref` of `repo` into `dest`; return the full commit hash."""

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
        except FileNotFoundError:
            raise InputError("git is not installed", tip="install git, or give checkouts instead of refs") from None

    rev = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if rev.returncode != 0:
        raise InputError(
            f"{ref!r} is not a commit of the git repository {repo}",
            tip="give a branch, tag or commit hash, or a checkout folder",
        )
    commit = rev.stdout.decode().strip()
    archive = git("archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise InputError(f"git archive {commit} in {repo} failed: {archive.stderr.decode(errors='replace').strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as f:
        f.write(archive.stdout)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            try:
                tar.extractall(dest, filter="data")
            except tarfile.FilterError as e:
                member = getattr(e, "tarinfo", None)
                raise InputError(
                    f"{ref} ({commit[:7]}) of {repo}: {member.name if member else 'a file'} points outside the tree; refused",
                    tip="the evaluated tree may hold no absolute links or links that leave it",
                ) from None
    return commit
