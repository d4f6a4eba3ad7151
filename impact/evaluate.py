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

import contextlib
import dataclasses
import json
import os
import re
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact import gitinfo
from impact.errors import InputError
from impact.loaders.merge import job_order, merge_jobs, write_snapshot
from impact.nix import (
    CAUGHT,
    EvalProcess,
    Limits,
    Nix,
    StoreGrowth,
    collect_garbage,
    eval_release,
    eval_release_with_eval_jobs,
    explain_error,
    limited_runner,
    release_args,
    store_path_problem,
    where,
    without_host_paths,
)

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
    #: The slices evaluated, of how many.
    slices: list[int] = field(default_factory=lambda: [0])
    chunks: int = 1
    #: Every Nix process run: label, wall seconds, peak resident memory.
    processes: list[EvalProcess] = field(default_factory=list)
    #: Wall-clock seconds of the whole evaluation.
    seconds: float = 0.0
    #: Bytes freed by collecting the private store afterwards (None: not collected).
    store_freed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "output": str(self.output),
            "jobs": self.jobs,
            "errors": self.errors,
            "derivations": self.derivations,
            "slices": self.slices,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 1),
            "processes": [
                {"label": p.label, "seconds": round(p.seconds, 1), "peak_rss": p.peak_rss} for p in self.processes
            ],
            "store_freed": self.store_freed,
        }


def trim_env(env: dict[str, Any]) -> dict[str, Any]:
    """A derivation's `env` kept to `ENV_KEYS`; structured attributes (`__json`, as Nix 2.8 prints them) trimmed
    to the same keys inside, as in the shared evaluations."""
    kept = {k: v for k, v in env.items() if k in ENV_KEYS}
    if isinstance(env.get("__json"), str):
        try:
            attrs = json.loads(env["__json"])
        except ValueError:
            attrs = None
        if isinstance(attrs, dict):
            kept["__json"] = json.dumps({k: v for k, v in attrs.items() if k in ENV_KEYS}, sort_keys=True)
    return kept


def is_checkout(folder: Path) -> bool:
    """True when `folder` looks like a nixpkgs checkout (it has pkgs/top-level/release.nix)."""
    return (folder / RELEASE_FILE).is_file()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once (`impact.writing.write_atomic`: nothing half-written, no temp left)."""
    from impact import writing

    writing.write_atomic(path, data)


#: An output name as Nix allows it (`out`, `dev`, `lib32`).
_OUTPUT_NAME = re.compile(r"(?!\.)[A-Za-z0-9+\-._?=]{1,211}")


def job_problem(line: dict[str, Any], nix: Nix) -> str | None:
    """Why the job line `line` is not a derivation `nix` wrote, or None when it is one.

    The evaluated tree decides every string of a job (anything with `type = "derivation"` is walked as one), and
    the .drv paths go on to `nix show-derivation`: each must be a .drv path of the store the evaluation used, a
    regular file there, and each output a name and a store path.
    """
    for key in ("name", "system"):
        if not isinstance(line.get(key), str):
            return f"its {key} is not a string"
    drv = line.get("drvPath")
    problem = store_path_problem(drv, nix.store_dir, drv=True)
    if problem is not None or not isinstance(drv, str):
        return f"its drvPath is {problem}"
    real = nix.real_path(drv)
    if real is not None:
        try:
            regular = stat.S_ISREG(os.lstat(real).st_mode)
        except OSError:
            regular = False
        if not regular:
            return "its drvPath is not a derivation the evaluation wrote to the store"
    outputs = line.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return "it has no outputs"
    for name, path in outputs.items():
        if not _OUTPUT_NAME.fullmatch(name):
            return "an output name is not one Nix allows"
        problem = store_path_problem(path, nix.store_dir)
        if problem is not None:
            return f"its output {name} is {problem}"
    return None


def checked_jobs(lines: list[dict[str, Any]], nix: Nix) -> list[dict[str, Any]]:
    """`lines` with each job that is not a derivation of `nix`'s store (`job_problem`) turned into an error line,
    as Hydra records a job that does not evaluate to a derivation."""
    checked = []
    for line in lines:
        problem = None if "error" in line else job_problem(line, nix)
        if problem is None:
            checked.append(line)
        else:
            kept: dict[str, Any] = {k: line[k] for k in ("attr", "attrPath", "jobset") if k in line}
            checked.append({**kept, "error": f"not a derivation: {problem}"})
    return checked


def links_leaving(root: Path) -> list[str]:
    """The symbolic links under `root` (relative to it, sorted) whose target is outside `root`.

    Restricted evaluation follows a link inside the tree to a file outside it and then refuses, naming the
    file it resolved, and whether the target exists decides which error it gives: a link out of the tree would
    tell the tree's author about this machine.
    """
    top = os.path.realpath(root)
    found = []
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if target != top and not target.startswith(top + os.sep):
                    found.append(os.path.relpath(entry.path, top))
            elif entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
    return sorted(found)


def relative_lines(lines: list[dict[str, Any]], tree: Path, nix: Nix) -> list[dict[str, Any]]:
    """Job lines with the folder `tree` was evaluated at taken out (positions relative to the tree's top,
    maintainers and errors without host paths), in place: a snapshot says nothing of where it was made."""
    root = str(tree)
    for line in lines:
        meta = line.get("meta")
        if isinstance(meta, dict) and "position" in meta:
            meta["position"] = _relative_position(meta["position"], root)
        if isinstance(meta, dict) and isinstance(meta.get("maintainers"), list):
            meta["maintainers"] = [
                without_host_paths(m, root) if isinstance(m, str) else m for m in meta["maintainers"]
            ]
        if isinstance(line.get("error"), str):
            line["error"] = without_host_paths(line["error"], root, nix.store_dir)
    return lines


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
    chunks: int = 1,
    chunk: int | None = None,
    jobs: int = 1,
    skip: Sequence[str] = (),
    explain: int = 25,
    gc: bool = False,
    source: Mapping[str, str] | None = None,
) -> EvalSummary:
    """Evaluate the Hydra jobs of `checkout` and write the snapshot folder `output`.

    `source` is what the tree is (commit, branch, date: `impact.gitinfo.ref_source` of an exported ref); by
    default what git says of `checkout` when it is the top of a git work tree. It is kept, checked, in
    `eval.json` (`snapshot info` shows it).

    `evaluator` is `nix-instantiate` (the shipped jobs.nix) or `nix-eval-jobs` (`workers` in parallel; it must
    be on PATH). With nix-instantiate the jobs are cut into `chunks` stable slices: only slice `chunk` is
    evaluated when given, else all of them, `jobs` Nix processes at a time, and joined. The whole evaluation keeps
    to `limits`: one deadline for every Nix process (retries and explaining runs included), each process's
    memory, and how much the store may grow. With `gc`, the store is garbage-collected afterwards, whatever the
    outcome (`collect_garbage`).
    """
    try:
        summary = _evaluate(checkout, output, nix, systems, nixos, limits.started(), on_job, evaluator, workers,
                            chunks, chunk, jobs, skip, explain, source)  # fmt: skip
    except BaseException:
        if gc:
            with contextlib.suppress(Exception):  # the evaluation's own error is the one to report
                collect_garbage(nix)
        raise
    return dataclasses.replace(summary, store_freed=collect_garbage(nix)) if gc else summary


def _evaluate(
    checkout: Path,
    output: Path,
    nix: Nix,
    systems: Sequence[str],
    nixos: bool,
    limits: Limits,
    on_job: Callable[[int], None] | None,
    evaluator: str,
    workers: int,
    chunks: int,
    chunk: int | None,
    jobs: int,
    skip: Sequence[str],
    explain: int,
    source: Mapping[str, str] | None,
) -> EvalSummary:
    import time

    started = time.monotonic()
    checkout = checkout.resolve()
    if not is_checkout(checkout):
        raise InputError(
            f"{checkout}: not a nixpkgs checkout (no {RELEASE_FILE})", tip="give the top folder of nixpkgs"
        )
    leaving = links_leaving(checkout)
    if leaving:
        more = f" (and {len(leaving) - 1:,} more)" if len(leaving) > 1 else ""
        raise InputError(
            f"{checkout}: {leaving[0]} is a link to a path outside the tree{more}; refused before evaluating",
            tip="the evaluated tree may hold no links that leave it: remove them or copy what they point to",
        )
    if chunks < 1 or jobs < 1 or (chunk is not None and not 0 <= chunk < chunks):
        raise InputError(
            f"--chunk {chunk} of --chunks {chunks} with --jobs {jobs}: no such slice",
            tip="give --chunks N >= 1, --chunk K with 0 <= K < N, --jobs >= 1",
        )
    processes: list[EvalProcess] = []
    slices = [chunk] if chunk is not None else list(range(chunks))
    with nix.evaluating():
        growth = nix.store_growth(limits.store)
        if evaluator == "nix-eval-jobs":
            if chunks > 1:
                raise InputError("--chunks needs --evaluator nix-instantiate", tip="nix-eval-jobs has --workers")
            lines = eval_release_with_eval_jobs(
                nix, checkout, systems, nixos=nixos, limits=limits, on_job=on_job, workers=workers, growth=growth
            )
        elif evaluator == "nix-instantiate":
            lines = _eval_slices(
                nix, checkout, systems, nixos, limits, on_job, chunks, slices, jobs, skip, explain, processes, growth
            )
        else:
            raise InputError(f"unknown evaluator {evaluator!r}", tip="use nix-instantiate or nix-eval-jobs")
        lines = relative_lines(checked_jobs(lines, nix), checkout, nix)
        drvs = [line["drvPath"] for line in lines if "drvPath" in line]
        derivations = _on_time(nix, limits).show_derivation(drvs) if drvs else {}
    for value in (derivations.get("derivations") or derivations).values():
        if isinstance(value, dict) and isinstance(value.get("env"), dict):
            value["env"] = trim_env(value["env"])
    info = {
        "systems": list(systems),
        "nixos": nixos,
        "nixosSystems": list(systems[:1]) if nixos else [],
        "skip": list(skip),
        "chunks": chunks,
        "slices": slices,
        "evaluator": evaluator,
        "source": gitinfo.checked(dict(source) if source is not None else gitinfo.checkout_source(checkout)),
    }
    write_snapshot(output, lines, derivations, info, write_atomic)
    per: dict[str, int] = {}
    for line in lines:
        if "error" not in line:
            per[line.get("jobset", "nixpkgs")] = per.get(line.get("jobset", "nixpkgs"), 0) + 1
    return EvalSummary(
        output=output,
        jobs=per,
        errors=sum(1 for line in lines if "error" in line),
        derivations=len(derivations.get("derivations") or derivations),
        slices=slices,
        chunks=chunks,
        processes=processes,
        seconds=time.monotonic() - started,
    )


def _on_time(nix: Nix, limits: Limits) -> Nix:
    """`nix` with its commands held to the evaluation's deadline (unless it runs them its own way)."""
    from impact.nix import subprocess_runner

    if nix.runner is not subprocess_runner:
        return nix
    timed = Limits(timeout=limits.timeout, memory=None, store=None, deadline=limits.deadline)
    return dataclasses.replace(nix, runner=limited_runner(timed))


def _eval_slices(
    nix: Nix,
    checkout: Path,
    systems: Sequence[str],
    nixos: bool,
    limits: Limits,
    on_job: Callable[[int], None] | None,
    chunks: int,
    slices: Sequence[int],
    jobs: int,
    skip: Sequence[str],
    explain: int,
    processes: list[EvalProcess],
    growth: StoreGrowth | None = None,
) -> list[dict[str, Any]]:
    """Evaluate `slices` of `chunks`, `jobs` processes at a time; their job lines joined (refusing overlaps)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    counts = dict.fromkeys(slices, 0)
    lock = threading.Lock()
    if jobs > 1 and len(slices) > 1 and nix.store is not None:
        nix.run("nix", "store", "ping")  # create a new store once: Nix processes creating it together collide

    def one(k: int) -> list[dict[str, Any]]:
        def counted(n: int) -> None:
            with lock:
                counts[k] = n
                if on_job is not None:
                    on_job(sum(counts.values()))

        return eval_release(
            nix,
            checkout,
            systems,
            nixos=nixos,
            limits=limits,
            on_job=counted,
            chunks=chunks,
            chunk=k,
            skip=skip,
            explain=0,
            processes=processes,
            growth=growth,
        )

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        lines = merge_jobs([(f"slice {k}", r) for k, r in zip(slices, pool.map(one, slices))])
        # Nix's message for the first `explain` throw/assert errors of the whole evaluation, in job order.
        caught = sorted((x for x in lines if x.get("error") == CAUGHT), key=job_order)[:explain]
        args = release_args(systems, nixos, None, skip)

        def explained(line: dict[str, Any]) -> None:
            line["error"] = explain_error(nix, checkout, args, where(line), limits, processes, growth)

        list(pool.map(explained, caught))
    return lines


def export_ref(repo: Path, ref: str, dest: Path) -> str:
    """Write the tree of git `ref` of `repo` into `dest`; return the full commit hash."""

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
        except FileNotFoundError:
            raise InputError("git is not installed", tip="install git, or give checkouts instead of refs") from None

    if ref.startswith("-") or not ref or any(ord(c) < 0x20 for c in ref):
        raise InputError(
            f"{ref[:80]!r} is not a git ref (it would read as an option)",
            tip="give a branch, tag or commit hash, or a checkout folder",
        )
    rev = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if rev.returncode != 0:
        raise InputError(
            f"{ref!r} is not a commit of the git repository {repo}",
            tip="give a branch, tag or commit hash, or a checkout folder",
        )
    commit = rev.stdout.decode().strip()
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        raise InputError(f"git rev-parse {ref!r} in {repo} did not give a commit hash")
    archive = git("archive", "--format=tar", "--end-of-options", commit)
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
                    f"{ref} ({commit[:7]}) of {repo}: {member.name if member else 'a file'} points outside the tree;"
                    " refused",
                    tip="the evaluated tree may hold no absolute links or links that leave it",
                ) from None
    return commit
