#!/usr/bin/env python3
"""Nix's own out-path diff of two evaluations, independent of impact: jobs whose output paths differ.

    python scripts/outpath_diff.py BASE/jobs.jsonl.gz HEAD/jobs.jsonl.gz   # counts per jobset
    python scripts/outpath_diff.py --expected EVALS                        # the four cases, in full

Reads the two jobs files `impact eval` (or nix-eval-jobs) wrote and prints, per jobset, the attributes in both
whose `outputs` differ (changed), in HEAD only (added), in BASE only (removed), and the attributes that
evaluated in BASE but are an error in HEAD. Plain Python on purpose: it shares no code with impact, so it can
check impact's headline.
"""

from __future__ import annotations

import gzip
import json
import sys


def read(path: str) -> tuple[dict[tuple[str, str], dict], set[tuple[str, str]]]:
    jobs, errors = {}, set()
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                key = (r.get("jobset", ""), r["attr"])
                if "error" in r:
                    errors.add(key)
                else:
                    jobs[key] = r["outputs"]
    return jobs, errors


def outpath_diff(base_path: str, head_path: str) -> dict:
    base, _ = read(base_path)
    head, head_errors = read(head_path)
    jobsets = sorted({js for js, _ in base} | {js for js, _ in head})
    result = {}
    for js in jobsets:
        b = {a: o for (j, a), o in base.items() if j == js}
        h = {a: o for (j, a), o in head.items() if j == js}
        result[js] = {
            "changed": sorted(a for a in b.keys() & h.keys() if b[a] != h[a]),
            "added": sorted(h.keys() - b.keys()),
            "removed": sorted(b.keys() - h.keys()),
            "newly_failing": sorted(a for (j, a) in head_errors if j == js and a in b),
        }
    return result


CASES = ("kernel", "newpkg", "docker", "darwin")

if __name__ == "__main__":
    if sys.argv[1] == "--expected":
        # tests/fixtures/pr2016/expected.json: each case's head against the base (folders under EVALS).
        evals = sys.argv[2]
        cases = {c: outpath_diff(f"{evals}/base/jobs.jsonl.gz", f"{evals}/{c}/jobs.jsonl.gz") for c in CASES}
        note = "Nix's out-path diff (scripts/outpath_diff.py) of each head evaluation against the base"
        print(json.dumps({"note": note, "cases": cases}, indent=1, sort_keys=True))
    else:
        diff = outpath_diff(sys.argv[1], sys.argv[2])
        print(json.dumps({js: {k: len(v) for k, v in d.items()} for js, d in diff.items()}))
