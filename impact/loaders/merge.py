"""Joining slices of one evaluation (`impact eval --chunks N --chunk K`) into one snapshot folder.

Each slice is a snapshot folder (`jobs.jsonl.gz`, `derivations.json.gz`) with `eval.json`, which says what was
evaluated: the slice (`chunks`, `slices`), the systems, the jobsets, the left-out names and the tree's commit
and branch (`source`, see `impact.gitinfo`). Slices join when they
come from the same evaluation settings, hold different slices and different jobs, and agree on every derivation
they share (a derivation's path is the hash of its contents, so a disagreement means different trees or a
corrupt file). Anything else is refused with one line, and nothing is written.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impact.errors import InputError

#: The file in a snapshot folder that says which evaluation and which slices it holds.
EVAL_INFO = "eval.json"
#: The settings that must agree between slices of one evaluation.
SETTINGS = ("systems", "nixos", "nixosSystems", "skip", "chunks", "evaluator", "source")


@dataclass(frozen=True)
class MergeSummary:
    """What `merge_slices` wrote."""

    output: Path
    #: Slices joined, of how many.
    slices: list[int]
    chunks: int
    jobs: int
    errors: int
    derivations: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "output": str(self.output),
            "slices": self.slices,
            "chunks": self.chunks,
            "complete": self.slices == list(range(self.chunks)),
            "jobs": self.jobs,
            "errors": self.errors,
            "derivations": self.derivations,
        }


def merge_jobs(parts: Sequence[tuple[str, Iterable[Mapping[str, Any]]]]) -> list[dict[str, Any]]:
    """The job lines of all parts (each named for messages), refusing a job that two parts hold."""
    seen: dict[tuple[str, str], str] = {}
    merged: list[dict[str, Any]] = []
    for name, lines in parts:
        for line in lines:
            key = (str(line.get("jobset", "nixpkgs")), str(line.get("attr")))
            if key in seen:
                raise InputError(
                    f"{name}: job {key[0]}:{key[1]} is also in {seen[key]}; the slices overlap",
                    tip="merge the slices of one evaluation, each slice once",
                )
            seen[key] = name
            merged.append(dict(line))
    return merged


def merge_derivations(parts: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The derivations of all parts (show-derivation documents), refusing one that two parts tell differently."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, doc in parts:
        for path, drv in _derivations_of(doc, name).items():
            if path in merged and merged[path] != drv:
                raise InputError(
                    f"{name}: derivation {path} differs from the one in {origin[path]}; not slices of one tree",
                    tip="merge only slices evaluated from the same nixpkgs tree",
                )
            merged.setdefault(path, drv)
            origin.setdefault(path, name)
    return merged


def check_settings(infos: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[int, list[int]]:
    """The number of chunks and the slices held, refusing slices of different evaluations or a slice twice."""
    first_name, first = infos[0]
    held: dict[int, str] = {}
    for name, info in infos:
        for key in SETTINGS:
            if info.get(key) != first.get(key):
                raise InputError(
                    f"{name}: {key} is {info.get(key)!r} but {first.get(key)!r} in {first_name}; not one evaluation",
                    tip="merge slices made with the same impact eval options",
                )
        for s in info.get("slices") or []:
            if s in held:
                raise InputError(f"{name}: slice {s} is also in {held[s]}", tip="give each slice once")
            held[s] = name
    chunks = first.get("chunks")
    if not isinstance(chunks, int) or chunks < 1 or any(not isinstance(s, int) or not 0 <= s < chunks for s in held):
        raise InputError(f"{first_name}: {EVAL_INFO} holds no valid slice numbers", tip="make it with impact eval")
    return chunks, sorted(held)


def read_slice(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The settings, job lines and derivations of one slice folder."""
    files = {f: folder / f for f in (EVAL_INFO, "jobs.jsonl.gz", "derivations.json.gz")}
    for f, path in files.items():
        if not path.is_file():
            raise InputError(
                f"{folder}: no {f}; not a slice written by impact eval", tip="give impact eval's -o folders"
            )
    try:
        info = json.loads(files[EVAL_INFO].read_text(encoding="utf-8"))
        jobs = [json.loads(x) for x in gzip.decompress(files["jobs.jsonl.gz"].read_bytes()).splitlines() if x.strip()]
        derivations = json.loads(gzip.decompress(files["derivations.json.gz"].read_bytes()))
    except (OSError, EOFError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise InputError(
            f"{folder}: cannot read the slice ({type(e).__name__}: {e})", tip="evaluate it again"
        ) from None
    if not isinstance(info, dict) or not all(isinstance(x, dict) for x in jobs) or not isinstance(derivations, dict):
        raise InputError(f"{folder}: the slice's files have the wrong shape", tip="evaluate it again")
    return info, jobs, derivations


def merge_slices(folders: Sequence[Path], output: Path) -> MergeSummary:
    """Join slice folders written by `impact eval --chunks N --chunk K` into the snapshot folder `output`."""
    from impact.writing import write_atomic

    if not folders:
        raise InputError("no slices to merge", tip="give the folders impact eval --chunk wrote")
    read = [(str(f), *read_slice(f)) for f in folders]
    chunks, slices = check_settings([(name, info) for name, info, _, _ in read])
    lines = merge_jobs([(name, jobs) for name, _, jobs, _ in read])
    derivations = merge_derivations([(name, drvs) for name, _, _, drvs in read])
    info = {**read[0][1], "slices": slices}
    write_snapshot(output, lines, derivations, info, write_atomic)
    return MergeSummary(
        output=output,
        slices=slices,
        chunks=chunks,
        jobs=sum(1 for x in lines if "error" not in x),
        errors=sum(1 for x in lines if "error" in x),
        derivations=len(derivations),
    )


def write_snapshot(
    output: Path, lines: Sequence[Mapping[str, Any]], derivations: Mapping[str, Any], info: Mapping[str, Any], write
) -> None:
    """Write a snapshot folder: jobs sorted by jobset and attribute, derivations and settings (each atomically)."""
    ordered = sorted(lines, key=job_order)
    jobs_text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in ordered)
    write(output / "jobs.jsonl.gz", gzip.compress(jobs_text.encode(), mtime=0))
    write(output / "derivations.json.gz", gzip.compress(json.dumps(derivations, sort_keys=True).encode(), mtime=0))
    write(output / EVAL_INFO, (json.dumps(info, sort_keys=True, indent=1) + "\n").encode())


def job_order(line: Mapping[str, Any]) -> tuple[int, str, list[str]]:
    """Jobs in the order Nix walks them: the nixpkgs jobset, then nixos, then others; by attribute path."""
    jobset = str(line.get("jobset", "nixpkgs"))
    path = line.get("attrPath")
    names = [str(n) for n in path] if isinstance(path, list) else str(line.get("attr")).split(".")
    return {"nixpkgs": 0, "nixos": 1}.get(jobset, 2), jobset, names


def _derivations_of(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    inner = doc.get("derivations") if isinstance(doc.get("derivations"), dict) else doc
    if not isinstance(inner, dict):
        raise InputError(f"{name}: derivations.json.gz is not an object", tip="evaluate it again")
    return inner
