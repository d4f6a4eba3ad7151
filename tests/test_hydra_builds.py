"""What Hydra builds and which systems count where, on small graphs written here and on random ones.

The reference is written plainly: output paths change from the roots to consumers, never into a fixed-output
derivation; Hydra starts from each changed job's derivation and recurses into inputs whose outputs changed.
"""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from impact.analysis.change import resolve_change
from impact.analysis.labels import labels_of
from impact.analysis.rebuild import estimate
from impact.analysis.report import build_report
from impact.model import Derivation, DerivationGraph, Job
from impact.render.changed_paths import render_changed_paths
from impact.render.text import estimate_text


def _drv(name: str, system: str, inputs: list[Derivation] = (), fixed: bool = False) -> Derivation:  # type: ignore[assignment]
    h = f"{int(hashlib.sha256(f'{name}/{system}'.encode()).hexdigest(), 16) % 10**32:032d}"
    return Derivation(
        path=f"/nix/store/{h}-{name}.drv",
        name=name,
        system=system,
        outputs={"out": f"/nix/store/{h}-{name}"},
        fixed_output=fixed,
        inputs={d.path: ("out",) for d in inputs},
    )


def _reference(graph: DerivationGraph, roots: set[int]) -> tuple[set[int], set[int], set[str]]:
    """(derivations with new output paths, derivations Hydra builds, changed jobs as `jobset/attr`)."""
    inputs = {
        c: graph.input_indices[graph.input_indptr[c] : graph.input_indptr[c + 1]].tolist() for c in range(len(graph))
    }
    changed = set(roots)
    grew = True
    while grew:
        grew = False
        for c in range(len(graph)):
            if c not in changed and not graph.fixed_output[c] and any(i in changed for i in inputs[c]):
                changed.add(c)
                grew = True
    jobs = {
        f"{graph.job_jobsets[k]}/{graph.job_attrs[k]}" for k in range(graph.job_count) if graph.job_drv[k] in changed
    }
    built: set[int] = set()
    stack = [int(graph.job_drv[k]) for k in range(graph.job_count) if graph.job_drv[k] in changed]
    while stack:
        d = stack.pop()
        if d not in built:
            built.add(d)
            stack.extend(i for i in inputs[d] if i in changed)
    return changed, built, jobs


def _curl_graph() -> DerivationGraph:
    """curl feeds a fetchurl (fixed-output) and a package directly, on x86_64-linux and aarch64-linux; on
    x86_64-darwin curl only feeds the fetcher, so there it rebuilds but is not built."""
    drvs: list[Derivation] = []
    jobs: list[Job] = []
    for system in ("x86_64-linux", "aarch64-linux", "x86_64-darwin"):
        curl = _drv("curl-7.64.0", system)
        helper = _drv("curl-wrapper", system, [curl])
        src = _drv("zlib-1.2.11.tar.gz", system, [helper], fixed=True)
        zlib = _drv("zlib-1.2.11", system, [src])
        drvs += [curl, helper, src, zlib]
        jobs.append(Job(f"zlib.{system}", system, "nixpkgs", zlib.path))
        if system.endswith("-linux"):
            git = _drv("git-2.21.0", system, [curl, zlib])
            drvs.append(git)
            jobs.append(Job(f"git.{system}", system, "nixpkgs", git.path))
    return DerivationGraph.from_records(drvs, jobs, origin="curl-graph")


def test_a_derivation_that_only_feeds_a_fixed_output_one_is_not_built() -> None:
    graph = _curl_graph()
    curl = [p for p in graph.drv_paths if p.endswith("-curl-7.64.0.drv")]
    result = estimate(graph, resolve_change(graph, drvs=curl))
    changed, built, jobs = _reference(graph, {graph.index[p] for p in curl})
    # curl and its wrapper on three systems, git on two.
    assert result.derivations_with_new_output_paths == len(changed) == 8
    assert {f"{js}/{a}" for js, attrs in result.changed_jobs.items() for a in attrs} == jobs
    assert set(result.built.tolist()) == built
    # git on both Linux systems, and the curl each needs; never the wrapper behind the fixed-output fetch.
    assert result.derivations_to_build == 4
    assert dict(result.derivations_to_build_by_system) == {"aarch64-linux": 2, "x86_64-linux": 2}
    assert dict(result.rebuilt_not_built_by_system) == {
        "aarch64-linux": 1,
        "x86_64-darwin": 2,
        "x86_64-linux": 1,
    }
    assert "4 more derivations get new output paths but are not built" in estimate_text(result, graph)
    payload = result.to_dict()
    assert payload["derivations_rebuilt_not_built"]["total"] == 4
    assert payload["derivations_with_new_output_paths"] == 8


def test_aarch64_linux_counts_toward_linux() -> None:
    graph = _curl_graph()
    git = [p for p in graph.drv_paths if p.endswith("-git-2.21.0.drv")]
    result = estimate(graph, resolve_change(graph, drvs=git))
    assert result.changed_jobs_by_system["nixpkgs"] == {"aarch64-linux": 1, "x86_64-linux": 1}
    labels = labels_of(result)
    assert labels.rebuilds_by_platform == {"aarch64-linux": ("git",), "x86_64-linux": ("git",)}
    assert labels.rebuilds_by_kernel["linux"] == ("git",)
    assert labels.rebuilds_by_kernel["darwin"] == ()
    assert "10.rebuild-linux: 1" in labels.active and "10.rebuild-darwin: 0" in labels.active
    changed_paths = json.loads(render_changed_paths(build_report(graph, result)))
    assert changed_paths["rebuildsByKernel"] == {"darwin": [], "linux": ["git"]}
    assert set(changed_paths["rebuildsByPlatform"]) == {"aarch64-linux", "x86_64-linux"}
    assert "aarch64-linux" in estimate_text(result, graph)


def test_nixos_tests_label_on_any_system() -> None:
    system = "aarch64-linux"
    kernel = _drv("linux-4.19.27", system)
    simple = _drv("vm-test-run-simple", system, [kernel])
    graph = DerivationGraph.from_records(
        [kernel, simple], [Job(f"tests.simple.{system}", system, "nixos", simple.path)], origin="nixos-aarch64"
    )
    result = estimate(graph, resolve_change(graph, drvs=[kernel.path]))
    assert "10.rebuild-nixos-tests" in labels_of(result).active


@st.composite
def _random_graph(draw: st.DrawFn) -> tuple[DerivationGraph, list[int]]:
    systems = ("x86_64-linux", "aarch64-linux", "x86_64-darwin")
    n = draw(st.integers(2, 24))
    drvs: list[Derivation] = []
    for i in range(n):
        picks = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
        drvs.append(
            _drv(f"d{i}", draw(st.sampled_from(systems)), [drvs[j] for j in sorted(picks)], fixed=draw(st.booleans()))
        )
    job_rows = draw(st.sets(st.integers(0, n - 1), min_size=1))
    jobs = [
        Job(f"p{k}.{drvs[k].system}", drvs[k].system, draw(st.sampled_from(("nixpkgs", "nixos"))), drvs[k].path)
        for k in sorted(job_rows)
    ]
    roots = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=3)))
    return DerivationGraph.from_records(drvs, jobs, origin="random"), roots


@settings(max_examples=200, deadline=None)
@given(_random_graph())
def test_hydra_builds_matches_the_reference_on_random_graphs(case: tuple[DerivationGraph, list[int]]) -> None:
    graph, roots = case
    result = estimate(graph, resolve_change(graph, drvs=[graph.drv_paths[r] for r in roots]))
    changed, built, jobs = _reference(graph, set(roots))
    assert set(result.rebuilt.tolist()) == changed
    assert set(result.built.tolist()) == built
    assert {f"{js}/{a}" for js, attrs in result.changed_jobs.items() for a in attrs} == jobs
    assert result.derivations_to_build + result.rebuilt_not_built == len(changed)
    by_jobset = result.derivations_to_build_by_jobset
    for jobset, per in by_jobset.items():
        assert sum(per.values()) <= result.derivations_to_build, jobset


def test_rank_counts_aarch64_linux_jobs_as_linux() -> None:
    from impact.analysis.rank import rank

    graph = _curl_graph()
    row = next(r for r in rank(graph).rows if r.package == "git")
    linux = [s for a, s in zip(graph.job_attrs, graph.job_systems) if a.startswith("git.") and s.endswith("-linux")]
    assert "aarch64-linux" in linux
    assert (row.jobs_linux, row.jobs_darwin) == (len(linux), 0)
