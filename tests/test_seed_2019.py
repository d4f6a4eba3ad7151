"""The seed's questions of March 2019, answered on nixpkgs master 2019-03-19 (../shared/data) and checked against
a plain reference written here: the evaluation's own JSON read with `json`, output paths changing from input
to consumer except into a fixed-output derivation, and Hydra's build steps from the changed jobs through inputs
whose outputs changed. Nothing here is a number copied from impact's output.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from impact.analysis.change import resolve_change, source_tree_derivations
from impact.analysis.compare import compare
from impact.analysis.outputs import package_outputs
from impact.analysis.rebuild import estimate
from impact.analysis.repoint import repoint
from impact.analysis.report import build_report
from impact.analysis.whatif import only_output
from impact.cli import main
from impact.errors import UnknownNameError
from impact.loaders import load_snapshot
from impact.model import DerivationGraph
from tests.conftest import DATA, require_shared

pytestmark = pytest.mark.shared

MASTER_2019 = DATA / "nixpkgs-master-2019-03-19"


@dataclass
class Reference:
    """The evaluation as plain dictionaries."""

    name: dict[str, str] = field(default_factory=dict)
    system: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, bool] = field(default_factory=dict)
    inputs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    consumers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: (jobset, attr, system, drvPath) per job.
    jobs: list[tuple[str, str, str, str]] = field(default_factory=list)

    def rebuilt(self, roots: set[str]) -> set[str]:
        """Derivations whose output paths change when `roots` change."""
        seen, stack = set(roots), list(roots)
        while stack:
            for c in self.consumers[stack.pop()]:
                if c not in seen and not self.fixed[c]:
                    seen.add(c)
                    stack.append(c)
        return seen

    def changed_jobs(self, rebuilt: set[str]) -> dict[str, list[tuple[str, str]]]:
        """Jobset → sorted (attr, system) of the jobs whose derivation is rebuilt."""
        out: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for jobset, attr, system, drv in self.jobs:
            if drv in rebuilt:
                out[jobset].append((attr, system))
        return {js: sorted(v) for js, v in out.items()}

    def built(self, rebuilt: set[str], jobset: str | None = None) -> set[str]:
        """What Hydra builds (for one jobset's jobs, or all): each changed job's derivation, then inputs whose
        outputs are missing."""
        stack = [drv for js, _, _, drv in self.jobs if drv in rebuilt and jobset in (None, js)]
        built: set[str] = set()
        while stack:
            d = stack.pop()
            if d not in built:
                built.add(d)
                stack.extend(i for i in self.inputs[d] if i in rebuilt)
        return built

    def by_system(self, drvs: set[str]) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for d in drvs:
            out[self.system[d]] += 1
        return dict(out)


def _name(d: dict) -> str:
    env = d["env"]
    return env["name"] if "name" in env else json.loads(env["__json"])["name"]


@pytest.fixture(scope="module")
def ref() -> Reference:
    folder = require_shared(MASTER_2019)
    raw = json.loads(gzip.decompress((folder / "derivations.json.gz").read_bytes()))
    r = Reference()
    for path, d in raw.items():
        r.name[path] = _name(d)
        r.system[path] = d["system"]
        r.fixed[path] = any("hash" in o for o in d["outputs"].values())
        r.inputs[path] = d["inputDrvs"]
        r.sources[path] = d["inputSrcs"]
        for i in d["inputDrvs"]:
            r.consumers[i].append(path)
    with gzip.open(folder / "jobs.jsonl.gz", "rt") as lines:
        for line in lines:
            j = json.loads(line)
            r.jobs.append((j["jobset"], j["attr"], j["system"], j["drvPath"]))
    return r


@pytest.fixture(scope="module")
def graph() -> DerivationGraph:
    return load_snapshot(require_shared(MASTER_2019))


def _tree_roots(ref: Reference) -> set[str]:
    # The README: the nixpkgs source tree is copied into the store as `…-base` in the 2019 snapshots.
    return {p for p, srcs in ref.sources.items() if any(s.endswith("-base") for s in srcs)}


def _users_of_tarball(ref: Reference, prefix: str) -> set[str]:
    """Derivations that take a fixed-output source whose name starts with `prefix` (e.g. `qemu-3.1.0.tar`)."""
    tarballs = {p for p, n in ref.name.items() if n.startswith(prefix) and ref.fixed[p]}
    return {c for t in tarballs for c in ref.consumers[t]}


def _jobs(result_jobs: dict[str, tuple[str, ...]], graph: DerivationGraph) -> dict[str, list[tuple[str, str]]]:
    return {
        js: sorted((a, graph.job_systems[graph.job_index[(js, a)]]) for a in attrs)
        for js, attrs in result_jobs.items()
        if attrs
    }


def _reference_labels(changed: dict[str, list[tuple[str, str]]]) -> set[str]:
    """nixpkgs CI's counting: unique package names per kernel (system suffix), each bucket the count falls in."""
    per_kernel: dict[str, set[str]] = {"linux": set(), "darwin": set()}
    for attr, _ in changed.get("nixpkgs", ()):
        package, _, platform = attr.rpartition(".")
        for kernel in per_kernel:
            if package and platform.endswith("-" + kernel):
                per_kernel[kernel].add(package)
    buckets = [("0", 0, 0), ("1", 1, 1), ("1-10", 1, 10), ("11-100", 11, 100), ("101-500", 101, 500)]
    buckets += [("501+", 501, 10**9), ("501-1000", 501, 1000), ("1001-2500", 1001, 2500)]
    buckets += [("2501-5000", 2501, 5000), ("5001+", 5001, 10**9)]
    out = {f"10.rebuild-{k}: {b}" for k, names in per_kernel.items() for b, lo, hi in buckets if lo <= len(names) <= hi}
    out |= {f"10.rebuild-{k}-stdenv" for k, names in per_kernel.items() if "stdenv" in names}
    if any(a.startswith("tests.simple.") for a, _ in changed.get("nixos", ())):
        out.add("10.rebuild-nixos-tests")
    return out


def _check_estimate(graph: DerivationGraph, ref: Reference, result, roots: set[str]) -> None:  # type: ignore[no-untyped-def]
    rebuilt = ref.rebuilt(roots)
    changed = ref.changed_jobs(rebuilt)
    built = ref.built(rebuilt)
    assert _jobs(result.changed_jobs, graph) == changed
    assert {graph.drv_paths[i] for i in result.built.tolist()} == built
    assert result.derivations_to_build == len(built)
    assert dict(result.derivations_to_build_by_system) == ref.by_system(built)
    assert dict(result.rebuilt_not_built_by_system) == ref.by_system(rebuilt - built)
    assert list(result.nixos_tests) == [a for a, _ in changed.get("nixos", ()) if a.startswith("tests.")]
    for jobset, per_system in result.derivations_to_build_by_jobset.items():
        assert dict(per_system) == ref.by_system(ref.built(rebuilt, jobset)), jobset


def test_the_source_tree_is_found_by_what_it_is(graph: DerivationGraph, ref: Reference) -> None:
    found = {graph.drv_paths[i] for i in source_tree_derivations(graph)}
    assert found == _tree_roots(ref) and found


def test_estimate_qemu(graph: DerivationGraph, ref: Reference) -> None:
    change = resolve_change(graph, names=["qemu"])
    # Every derivation built from QEMU 3.1.0's source is a root, and the NixOS derivations of the source tree.
    assert set(change.root_paths) == _users_of_tarball(ref, "qemu-3.1.0.tar") | _tree_roots(ref)
    result = estimate(graph, change)
    _check_estimate(graph, ref, result, set(change.root_paths))
    systems = {s for per in result.changed_jobs_by_system.values() for s in per}
    assert systems == {"x86_64-linux", "aarch64-linux", "x86_64-darwin"}
    report = build_report(graph, result)
    changed = ref.changed_jobs(ref.rebuilt(set(change.root_paths)))
    assert set(report.labels.active) == _reference_labels(changed)
    # It reruns NixOS VM tests (the seed's "moderate mass-rebuild"): the nixos-tests rule sends it to staging-nixos.
    assert "10.rebuild-nixos-tests" in report.labels.active
    assert report.branch.target == "staging-nixos"


def test_compare_qemu_with_the_default_kernel(graph: DerivationGraph, ref: Reference) -> None:
    kernel_jobs = {drv for js, attr, _, drv in ref.jobs if js == "nixpkgs" and attr.startswith("linux.")}
    assert {ref.name[d] for d in kernel_jobs} == {"linux-4.14.106"}  # the then-default kernel
    changes = [resolve_change(graph, names=["qemu"]), resolve_change(graph, names=["linux"])]
    comparison = compare(graph, changes)
    per_change = []
    for change, compared in zip(changes, comparison.changes):
        roots = set(change.root_paths)
        _check_estimate(graph, ref, compared.report.estimate, roots)
        per_change.append(ref.changed_jobs(ref.rebuilt(roots)))
    assert kernel_jobs <= set(changes[1].root_paths)
    # `linux` is an alias: other attributes build the very same derivations, and the estimate says which.
    shared = {a.rpartition(".")[0] for js, a, _, d in ref.jobs if d in kernel_jobs and not a.startswith("linux.")}
    assert "linux_4_14" in shared
    assert set(changes[1].aliases["linux"]) == shared
    assert "qemu" not in changes[0].aliases
    for i, compared in enumerate(comparison.changes):
        for jobset, attrs in compared.only_jobs.items():
            elsewhere = {a for a, _ in per_change[1 - i].get(jobset, ())}
            assert list(attrs) == [a for a, _ in per_change[i].get(jobset, ()) if a not in elsewhere], jobset
    # The kernel change goes to staging-nixos whatever it rebuilds.
    assert comparison.changes[1].report.branch.target == "staging-nixos"


def test_outputs_of_containerd(graph: DerivationGraph, ref: Reference) -> None:
    report = package_outputs(graph, "containerd")
    containerd = {d for js, attr, _, d in ref.jobs if attr.startswith("containerd.")}
    assert {d.drv for d in report.derivations} == containerd
    for d in report.derivations:
        takers: dict[str, set[str]] = {o: set() for o in ("bin", "out", "man")}
        for c in ref.consumers[d.drv]:
            for o in ref.inputs[c][d.drv]:
                takers[o].add(c)
        assert {u.output: set(u.consumer_drvs) for u in d.outputs} == takers


def test_estimate_containerd_only_man(graph: DerivationGraph, ref: Reference) -> None:
    change = resolve_change(graph, names=["containerd"])
    what = only_output(graph, change, "man")
    named = {r.path for r in change.roots if r.kind.value != "source-tree"}
    # With early cutoff only consumers taking `man` rebuild, behind the named roots themselves.
    seeds = {c for d in named for c in ref.consumers[d] if "man" in ref.inputs[c][d] and not ref.fixed[c]}
    rows = ref.rebuilt(seeds | _tree_roots(ref)) | named
    assert _jobs(what.what_if.changed_jobs, graph) == ref.changed_jobs(rows)
    _check_estimate(graph, ref, what.today, set(change.root_paths))


@pytest.mark.parametrize("package", ["podman", "firecracker"])
def test_new_packages(graph: DerivationGraph, ref: Reference, package: str) -> None:
    change = resolve_change(graph, names=[package])
    result = estimate(graph, change)
    _check_estimate(graph, ref, result, set(change.root_paths))
    own = sorted((a, s) for js, a, s, _ in ref.jobs if js == "nixpkgs" and a.startswith(package + "."))
    assert own
    # New in March 2019, nothing in nixpkgs depends on it yet: it costs its own jobs (and the every-commit ones).
    assert _jobs(result.changed_jobs, graph)["nixpkgs"] == own


def test_glibc_builds_less_than_it_rebuilds(graph: DerivationGraph, ref: Reference) -> None:
    change = resolve_change(graph, names=["glibc"], commit=False)
    result = estimate(graph, change)
    _check_estimate(graph, ref, result, set(change.root_paths))
    assert result.rebuilt_not_built > 0


def test_repointing_the_default_kernel_gives_bounds(graph: DerivationGraph, ref: Reference) -> None:
    rep = repoint(graph, "linuxPackages", "linuxPackages_4_19")
    by_attr = {(js, a): d for js, a, _, d in ref.jobs}
    lower = defaultdict(list)
    moved: set[str] = set()
    for (js, attr), drv in by_attr.items():
        if attr.startswith("linuxPackages."):
            new = by_attr.get((js, "linuxPackages_4_19." + attr[len("linuxPackages.") :]))
            if new is not None and new != drv:
                lower[js].append(attr)
            if new != drv:
                moved.add(drv)
    assert {js: list(v) for js, v in rep.repointed_jobs.items()} == {js: sorted(v) for js, v in lower.items()}
    assert "linuxPackages.kernel.x86_64-linux" in rep.repointed_jobs["nixpkgs"]
    upper = ref.changed_jobs(ref.rebuilt(moved | _tree_roots(ref)))
    assert _jobs(rep.upper.changed_jobs, graph) == upper
    # `linux` and `linux_4_14` build the kernel linuxPackages builds: the graph cannot tell them from aliases.
    assert {"linux", "linux_4_14"} <= set(rep.sharing)
    payload = rep.to_dict()
    assert payload["exact"] is False and "impact diff" in payload["exact_mode"]


def test_cli_repoint_says_it_is_a_bound(
    graph: DerivationGraph, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The graph is loaded once for the module; the command gets it instead of loading the folder again.
    monkeypatch.setattr("impact.loaders.load_snapshot", lambda *_args, **_kwargs: graph)
    assert main(["estimate", "--repoint", "linuxPackages=linuxPackages_4_19"]) == 0
    out = capsys.readouterr().out
    assert "cannot tell" in out and "at least" in out and "at most" in out and "impact diff" in out


def test_a_set_of_attributes_is_not_a_package(graph: DerivationGraph) -> None:
    with pytest.raises(UnknownNameError, match="set of") as caught:
        resolve_change(graph, names=["linuxPackages"])
    assert "--repoint linuxPackages=" in str(caught.value.tip)
