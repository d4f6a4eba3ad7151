"""The four real 2016 pull-request cases, rebuilt from small deltas over the shipped snapshot.

`tests/fixtures/pr2016/` holds deltas made by `scripts/make_pr_fixture.py` from real evaluations made with
`impact eval` (`scripts/pr-cases.sh` re-creates them from the nixpkgs tree): `base.json.gz` turns the shipped
`data/nixpkgs-master-2016-06-24.impact` into the base evaluation (the same nixpkgs jobs; the base adds the jobs
the shared snapshot leaves out, such as `tarball`, `channel` and `ova`, and its own source tree), and each case's
delta turns that base into the case's head evaluation. `expected.json` holds Nix's own out-path diff of each
case, computed by `scripts/outpath_diff.py` from the two evaluations' jobs.jsonl.gz.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from impact.model import Derivation, DerivationGraph, EvalError, Job

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "pr2016"
SHIPPED = ROOT / "data" / "nixpkgs-master-2016-06-24.impact"
CASES = ("kernel", "newpkg", "docker", "darwin")


def graph_records(
    graph: DerivationGraph,
) -> tuple[dict[str, Derivation], dict[tuple[str, str], Job], list[EvalError]]:
    """A graph's derivations by path, jobs by (jobset, attr), and evaluation errors, as records."""
    drvs = {p: graph.derivation(i) for i, p in enumerate(graph.drv_paths)}
    jobs = {(graph.job_jobsets[k], graph.job_attrs[k]): graph.job(k) for k in range(graph.job_count)}
    return drvs, jobs, list(graph.eval_errors)


def _derivation(d: Mapping[str, Any]) -> Derivation:
    return Derivation(
        path=d["path"],
        name=d["name"],
        system=d["system"],
        outputs=dict(d["outputs"]),
        fixed_output=d["fixed_output"],
        required_system_features=tuple(d["required_system_features"]),
        prefer_local_build=d["prefer_local_build"],
        inputs={k: tuple(v) for k, v in d["inputs"].items()},
        input_sources=tuple(d["input_sources"]),
    )


def _job(j: Mapping[str, Any]) -> Job:
    return Job(
        attr=j["attr"],
        system=j["system"],
        jobset=j["jobset"],
        drv_path=j["drv_path"],
        name=j["name"],
        outputs=dict(j["outputs"]),
        position=j["position"],
        maintainers=tuple(j["maintainers"]),
    )


def apply_delta(base: DerivationGraph, delta: Mapping[str, Any], origin: str = "") -> DerivationGraph:
    """BASE with the delta applied: its jobs replaced, added and removed, its derivations added, pruned to
    the closure of the jobs, and the delta's evaluation errors."""
    drvs, jobs, _ = graph_records(base)
    drvs.update((d["path"], _derivation(d)) for d in delta["derivations"])
    for js, attr in delta["removed_jobs"]:
        del jobs[(js, attr)]
    jobs.update(((j["jobset"], j["attr"]), _job(j)) for j in delta["jobs"])
    keep: set[str] = set()
    stack = [j.drv_path for j in jobs.values()]
    while stack:
        p = stack.pop()
        if p not in keep:
            keep.add(p)
            stack.extend(drvs[p].inputs)
    errors = [EvalError(attr=e["attr"], error=e["error"], jobset=e["jobset"]) for e in delta["eval_errors"]]
    return DerivationGraph.from_records(
        [drvs[p] for p in sorted(keep)], sorted(jobs.values(), key=lambda j: (j.jobset, j.attr)), errors, origin=origin
    )


def read_delta(path: Path) -> dict[str, Any]:
    """A delta file written by scripts/make_pr_fixture.py."""
    return json.loads(gzip.decompress(path.read_bytes()))


@functools.cache
def base_graph() -> DerivationGraph:
    """The base evaluation of the four cases (nixpkgs master a1884e63, as `impact eval` evaluated it)."""
    from impact.loaders import load_snapshot

    graph = apply_delta(load_snapshot(SHIPPED), read_delta(FIXTURES / "base.json.gz"), origin="base")
    graph.meta["label"] = "master a1884e6"
    return graph


@functools.cache
def head_graph(case: str) -> DerivationGraph:
    """The head evaluation of one case."""
    graph = apply_delta(base_graph(), read_delta(FIXTURES / f"{case}.json.gz"), origin=case)
    graph.meta["label"] = f"master a1884e6 + {case} edit"
    return graph


def expected() -> dict[str, Any]:
    """Nix's out-path diff of each case (scripts/outpath_diff.py), with how it was made."""
    return json.loads((FIXTURES / "expected.json").read_text())
