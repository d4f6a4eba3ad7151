"""`impact why` on the shared master snapshot: a NixOS VM test reached by the qemu change, a fetchurl-only
dependent of curl cut off by its fixed-output source, and a target with no chain at all.

Expectations are computed here by plain breadth-first searches over `graph.consumers_of` / `graph.inputs_of`,
not by the module under test.
"""

from __future__ import annotations

import json
from collections import deque

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.why import Chain, Verdict, resolve_target, why
from impact.cli import main
from impact.errors import UnknownNameError
from impact.model import DerivationGraph
from impact.snapshots import SNAPSHOT_ENV
from tests.conftest import MASTER_2016

NAT = "tests.nat.standalone.x86_64-linux"


def reached_from(graph: DerivationGraph, roots: list[int]) -> dict[int, int]:
    """Row → distance from the nearest root, walking input → consumer and never into a fixed-output derivation."""
    dist = dict.fromkeys(roots, 0)
    queue = deque(roots)
    while queue:
        j = queue.popleft()
        for c, _ in graph.consumers_of(j):
            if c not in dist and not graph.fixed_output[c]:
                dist[c] = dist[j] + 1
                queue.append(c)
    return dist


def ancestors(graph: DerivationGraph, row: int) -> set[int]:
    seen = {row}
    stack = [row]
    while stack:
        for j, _ in graph.inputs_of(stack.pop()):
            if j not in seen:
                seen.add(j)
                stack.append(j)
    return seen


def assert_valid_chain(graph: DerivationGraph, chain: Chain, roots: set[str], target: str) -> None:
    assert chain.steps[0].drv in roots
    assert chain.steps[-1].drv == target
    for a, b in zip(chain.steps, chain.steps[1:]):
        assert graph.derivation(b.drv).inputs[a.drv] == b.outputs


def test_qemu_reaches_a_nixos_vm_test(master_graph: DerivationGraph) -> None:
    change = resolve_change(master_graph, ["qemu"])
    named = [master_graph.index[r.path] for r in change.roots if r.kind.value != "source-tree"]
    dist = reached_from(master_graph, named)
    target = master_graph.job_drv[master_graph.job_index[("nixos", NAT)]]
    assert target in dist, "qemu must reach the NAT VM test (independent search)"

    result = why(master_graph, change, NAT)
    [answer] = result.answers
    assert answer.verdict is Verdict.REBUILT and answer.rebuilt
    assert answer.jobs == (f"nixos: {NAT}",)
    [chain] = answer.chains
    assert_valid_chain(master_graph, chain, {master_graph.drv_paths[i] for i in named}, master_graph.drv_paths[target])
    assert len(chain.steps) - 1 == dist[target], "the chain is a shortest one"
    assert chain.steps[0].name.startswith("qemu")
    assert chain.steps[-1].name.startswith("vm-test-run-nat")
    assert not any(s.fixed_output for s in chain.steps)
    assert "→(out)" in chain.text()


def test_all_chains_are_distinct_valid_and_counted(master_graph: DerivationGraph) -> None:
    change = resolve_change(master_graph, ["qemu"])
    named = [master_graph.index[r.path] for r in change.roots if r.kind.value != "source-tree"]
    inside = reached_from(master_graph, named)
    target = int(master_graph.job_drv[master_graph.job_index[("nixos", NAT)]])

    # Independent count of chains: paths in the DAG of rebuilt derivations from any named root to the target.
    memo: dict[int, int] = {}

    def paths_to(v: int) -> int:
        if v not in memo:
            memo[v] = (v in named) + (
                0
                if master_graph.fixed_output[v] and v not in named
                else sum(paths_to(j) for j, _ in master_graph.inputs_of(v) if j in inside)
            )
        return memo[v]

    [answer] = why(master_graph, change, NAT, all_chains=True, limit=5).answers
    assert answer.chain_count == paths_to(target)
    assert 1 <= len(answer.chains) <= 5
    texts = [c.text() for c in answer.chains]
    assert len(set(texts)) == len(texts)
    lengths = [len(c.steps) for c in answer.chains]
    assert lengths == sorted(lengths)
    for c in answer.chains:
        assert_valid_chain(master_graph, c, {master_graph.drv_paths[i] for i in named}, master_graph.drv_paths[target])


def test_fetchurl_only_dependent_of_curl_is_cut_by_its_fixed_output(master_graph: DerivationGraph) -> None:
    change = resolve_change(master_graph, ["curl"])
    roots = [master_graph.index[p] for p in change.root_paths]
    rebuilt = reached_from(master_graph, roots)
    curl_rows = {master_graph.index[r.path] for r in change.roots if r.name.startswith("curl-")}
    # A job whose derivation is not rebuilt but has a fixed-output input (a fetchurl) that runs curl.
    candidates: list[tuple[str, int, int]] = []
    for k, attr in enumerate(master_graph.job_attrs):
        d = int(master_graph.job_drv[k])
        if d in rebuilt or master_graph.job_jobsets[k] != "nixpkgs":
            continue
        for f, _ in master_graph.inputs_of(d):
            if master_graph.fixed_output[f] and any(j in curl_rows for j, _ in master_graph.inputs_of(f)):
                candidates.append((attr, d, f))
    assert candidates, "the snapshot has fetchurl-only dependents of curl"
    attr, d, fod = next((c for c in candidates if c[0] == "hello.x86_64-linux"), sorted(candidates)[0])

    [answer] = why(master_graph, change, attr).answers
    assert answer.verdict is Verdict.CUT and not answer.rebuilt
    assert master_graph.names[fod] in {c.name for c in answer.cuts}
    assert master_graph.names[fod] in answer.reason
    assert answer.cut_count >= 1
    for cut in answer.cuts:
        steps = cut.chain.steps
        at = next(i for i, s in enumerate(steps) if s.drv == cut.drv)
        assert steps[at].fixed_output
        assert master_graph.index[steps[at - 1].drv] in rebuilt, "the fixed-output derivation's input is rebuilt"
        assert master_graph.index[cut.drv] not in rebuilt
        assert steps[-1].drv == master_graph.drv_paths[d]


def test_no_chain_when_the_target_does_not_depend_on_the_change(master_graph: DerivationGraph) -> None:
    change = resolve_change(master_graph, ["qemu"], only=True, commit=False)
    target = int(master_graph.job_drv[master_graph.job_index[("nixpkgs", "hello.x86_64-linux")]])
    assert not ancestors(master_graph, target) & {master_graph.index[p] for p in change.root_paths}
    [answer] = why(master_graph, change, "hello.x86_64-linux").answers
    assert answer.verdict is Verdict.NO_CHAIN
    assert answer.chains == () and answer.cuts == ()


def test_a_root_is_its_own_answer(master_graph: DerivationGraph) -> None:
    change = resolve_change(master_graph, ["qemu"])
    [answer] = why(master_graph, change, "qemu.x86_64-linux").answers
    assert answer.verdict is Verdict.ROOT


def test_targets_resolve_by_attr_package_name_and_path(master_graph: DerivationGraph) -> None:
    hello = resolve_target(master_graph, "hello")
    assert sorted(master_graph.system_of(i) for i in hello) == ["i686-linux", "x86_64-darwin", "x86_64-linux"]
    one = resolve_target(master_graph, "hello.x86_64-linux")
    assert resolve_target(master_graph, master_graph.drv_paths[one[0]]) == one
    assert set(one) <= set(resolve_target(master_graph, "hello-2.10"))
    with pytest.raises(UnknownNameError):
        resolve_target(master_graph, "no-such-package-anywhere")


def test_why_cli_text_and_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SNAPSHOT_ENV, MASTER_2016)  # 2016 facts
    assert main(["why", NAT, "--change", "qemu"]) == 0
    text = capsys.readouterr().out
    assert "vm-test-run-nat" in text and "→(out)" in text
    assert main(["why", "hello.x86_64-linux", "--change", "curl", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [answer] = doc["answers"]
    assert answer["verdict"] == "cut-by-fixed-output" and answer["rebuilt"] is False
    assert answer["cuts"][0]["name"].endswith((".tar.gz", ".tar.xz", ".tar.bz2"))
    assert main(["why", NAT]) == 2
    assert "no change named" in capsys.readouterr().err
