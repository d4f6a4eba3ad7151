"""An out-path diff of two evaluations, written apart from impact: what `impact diff` must equal.

Reads only the `jobs.jsonl.gz` of two snapshot folders (the output paths nix-instantiate printed for each
job) and compares them job by job: a job is changed when it is evaluated on both sides and any output path
differs, added or removed when only one side evaluated it; jobs that failed to evaluate are left out on both
sides. `check` compares that with `impact diff --json`.

    python tests/integration/outpath_diff.py BASE HEAD [IMPACT_DIFF_JSON]

prints the counts per jobset and system, and with the JSON of `impact diff BASE HEAD --json` says whether they
agree (exit 1 when not).
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

Key = tuple[str, str]


def outputs(folder: Path) -> dict[Key, tuple[str, dict[str, str]]]:
    """(jobset, attr) → (system, {output: path}) of every job that evaluated."""
    found: dict[Key, tuple[str, dict[str, str]]] = {}
    for text in gzip.decompress((folder / "jobs.jsonl.gz").read_bytes()).splitlines():
        line = json.loads(text)
        if "error" not in line:
            found[(line.get("jobset", "nixpkgs"), line["attr"])] = (line.get("system", "?"), line["outputs"])
    return found


def outpath_diff(base: Path, head: Path) -> dict[str, set[Key]]:
    """The jobs changed, added and removed between two snapshot folders, by output paths."""
    before, after = outputs(base), outputs(head)
    return {
        "changed": {k for k in before.keys() & after.keys() if before[k][1] != after[k][1]},
        "added": set(after.keys() - before.keys()),
        "removed": set(before.keys() - after.keys()),
    }


def per_system(base: Path, head: Path) -> Counter[tuple[str, str, str]]:
    """(kind, jobset, system) → jobs."""
    before, after = outputs(base), outputs(head)
    counts: Counter[tuple[str, str, str]] = Counter()
    for kind, keys in outpath_diff(base, head).items():
        for k in keys:
            counts[(kind, k[0], (after.get(k) or before[k])[0])] += 1
    return counts


def check(base: Path, head: Path, impact_diff: dict[str, Any]) -> dict[str, tuple[set[Key], set[Key]]]:
    """The kinds where `impact diff --json` and the out-path diff disagree: kind → (only impact, only plain)."""
    plain = outpath_diff(base, head)
    disagree = {}
    for kind in ("changed", "added", "removed"):
        told = {(js, a) for js, attrs in impact_diff[kind].items() for a in attrs}
        if told != plain[kind]:
            disagree[kind] = (told - plain[kind], plain[kind] - told)
    return disagree


if __name__ == "__main__":
    base, head = Path(sys.argv[1]), Path(sys.argv[2])
    for (kind, jobset, system), n in sorted(per_system(base, head).items()):
        print(f"{kind}\t{jobset}\t{system}\t{n}")
    if len(sys.argv) > 3:
        disagree = check(base, head, json.loads(Path(sys.argv[3]).read_text()))
        print("impact diff agrees with the out-path diff" if not disagree else f"DISAGREE: {disagree}")
        sys.exit(1 if disagree else 0)
