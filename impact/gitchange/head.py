"""HEAD's evaluation made from BASE's and an exact answer: what `impact pr` diffs when the change is bounded.

An exact answer names every job the change moves (changed, added, removed, broken); every other job of HEAD is
BASE's job, output paths and all. So HEAD's evaluation is BASE's with those jobs replaced by Nix's own lines for
them (`GitAnswer.head_lines`, evaluated in HEAD), their derivations added, and every derivation no job needs
left out, as a full evaluation's snapshot holds exactly the closure of its jobs.
"""

from __future__ import annotations

import json

import numpy as np

from impact.gitchange import GitAnswer
from impact.loaders._checks import check_acyclic
from impact.loaders.eval_jobs import parse_job_lines
from impact.loaders.show_derivation import parse_derivations
from impact.model import DerivationGraph, EvalError


def head_graph(base: DerivationGraph, found: GitAnswer, label: str) -> DerivationGraph:
    """HEAD's evaluation: `base` with the jobs `found` moves taken from HEAD (it must hold `head_lines`)."""
    new_jobs, new_errors = parse_job_lines((json.dumps(line) for line in found.head_lines), f"HEAD of {label}")
    moved = {(j.jobset, j.attr) for j in new_jobs} | {(e.jobset, e.attr) for e in new_errors}
    moved |= {(js, a) for js, attrs in found.outcome.removed.items() for a in attrs}
    jobs = [base.job(k) for k, key in enumerate(zip(base.job_jobsets, base.job_attrs)) if key not in moved]
    jobs += new_jobs
    errors: list[EvalError] = [e for e in base.eval_errors if (e.jobset or "nixpkgs", e.attr) not in moved]
    errors += new_errors
    added = [d for d in parse_derivations(found.head_derivations, f"HEAD of {label}") if d.path not in base.index]
    derivations = {d.path: d for d in added}
    needed = [j.drv_path for j in jobs] + [p for d in derivations.values() for p in d.inputs]
    keep = _closure(base, [base.index[p] for p in needed if p in base.index])
    records = [base.derivation(i) for i in sorted(keep)] + list(derivations.values())
    graph = check_acyclic(DerivationGraph.from_records(records, jobs, errors, origin=f"HEAD of {label}"))
    graph.meta["label"] = label
    return graph


def _closure(graph: DerivationGraph, rows: list[int]) -> set[int]:
    """`rows` and every derivation they take, at any depth."""
    seen = np.zeros(len(graph), dtype=bool)
    todo = [r for r in rows if not seen[r]]
    seen[todo] = True
    indptr, indices = graph.input_indptr, graph.input_indices
    while todo:
        r = todo.pop()
        for i in indices[indptr[r] : indptr[r + 1]].tolist():
            if not seen[i]:
                seen[i] = True
                todo.append(i)
    return set(np.flatnonzero(seen).tolist())
