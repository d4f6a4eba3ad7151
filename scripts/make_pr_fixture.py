#!/usr/bin/env python3
"""Write the smallest faithful fixture of an evaluation: what differs from another (a *delta*).

    python scripts/make_pr_fixture.py BASE_SNAPSHOT EVALUATION OUT.json.gz [--note TEXT]

BASE_SNAPSHOT is what the delta applies to (a snapshot impact reads: the shipped data/….impact, or a snapshot
rebuilt from another delta with `tests/pr_cases.py`); EVALUATION is the snapshot folder `impact eval` wrote.
The delta holds, as JSON:
- `jobs`: EVALUATION's jobs that BASE lacks or that differ from BASE's (every field of `impact.model.Job`);
- `removed_jobs`: [jobset, attr] of BASE's jobs EVALUATION lacks;
- `derivations`: EVALUATION's derivations whose .drv path BASE lacks (every field of `impact.model.Derivation`);
- `eval_errors`: all of EVALUATION's evaluation errors (attr, jobset, error).
Applying it (`tests/pr_cases.py: apply_delta`) gives BASE's derivations plus these, pruned to the closure of the
resulting jobs, and exactly EVALUATION's jobs and errors: the same graph `impact` loads from EVALUATION, which
the script checks before writing (`DerivationGraph.same_as`).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from impact.loaders import load_snapshot
from tests.pr_cases import apply_delta, graph_records


def make_delta(base_path: Path, evaluation: Path, note: str = "") -> dict:
    """The delta that turns the snapshot at `base_path` into the evaluation at `evaluation`."""
    base = load_snapshot(base_path)
    head = load_snapshot(evaluation)
    base_drvs, base_jobs, _ = graph_records(base)
    head_drvs, head_jobs, head_errors = graph_records(head)
    jobs = [dataclasses.asdict(j) for key, j in sorted(head_jobs.items()) if base_jobs.get(key) != j]
    removed = [list(key) for key in sorted(base_jobs.keys() - head_jobs.keys())]
    drvs = [dataclasses.asdict(d) for p, d in sorted(head_drvs.items()) if p not in base_drvs]
    delta = {
        "format": "impact-delta",
        "version": 1,
        "note": note,
        "applies_to": base_path.name,
        "jobs": jobs,
        "removed_jobs": removed,
        "derivations": drvs,
        "eval_errors": [dataclasses.asdict(e) for e in head_errors],
    }
    rebuilt = apply_delta(base, delta)
    if not rebuilt.same_as(head):
        raise SystemExit(f"{evaluation}: the delta does not reproduce the evaluation")
    if sorted((e.jobset, e.attr, e.error) for e in rebuilt.eval_errors) != sorted(
        (e.jobset, e.attr, e.error) for e in head.eval_errors
    ):
        raise SystemExit(f"{evaluation}: the delta does not reproduce the evaluation errors")
    return delta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("evaluation", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    delta = make_delta(args.base, args.evaluation, args.note)
    data = json.dumps(delta, sort_keys=True, separators=(",", ":")).encode()
    args.output.write_bytes(gzip.compress(data, 9, mtime=0))
    print(
        f"{args.output}: {len(delta['jobs']):,} jobs, {len(delta['removed_jobs']):,} removed, "
        f"{len(delta['derivations']):,} derivations, {len(delta['eval_errors']):,} errors, "
        f"{args.output.stat().st_size:,} bytes"
    )


if __name__ == "__main__":
    main()
