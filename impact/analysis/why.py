"""Why a change rebuilds a target, or why it does not: chains of derivations with the outputs taken at each step.

The semantics are `rebuild.rebuilt_rows`': a change travels from input to consumer, whatever output the
consumer takes, and never into a fixed-output derivation (its output path is fixed by its hash). So:

- a target is rebuilt exactly when a breadth-first search along those edges from the roots reaches it, and the
  search's predecessor array gives a shortest chain (`_walk.bfs`, scipy in C, milliseconds on all of nixpkgs);
- `--all` lists every chain, shortest first, up to a limit, with networkx's `shortest_simple_paths` on the small
  subgraph of rebuilt ancestors of the target, and counts them all by dynamic programming over that subgraph;
- a target that depends on a root but is not rebuilt is cut off by fixed-output derivations: those whose inputs
  are rebuilt but whose outputs are not, on a path to the target. They are named, with the chain through each;
- a target that does not depend on any root at all has no chain.

Roots that embed the nixpkgs source tree (every commit changes them) are searched apart: the answer prefers a
chain from what the user named, and says when the target also changes on every commit.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from impact.analysis import _walk
from impact.analysis.change import Change
from impact.errors import UnknownNameError
from impact.model import DerivationGraph, store_path

#: Chains listed with `--all` unless told otherwise.
DEFAULT_CHAIN_LIMIT = 10
#: Fixed-output derivations named when explaining a cut, closest to the target first.
MAX_CUTS_SHOWN = 5


class Verdict(str, Enum):
    """What the change does to a target."""

    ROOT = "root"
    """The target is itself a root of the change."""
    REBUILT = "rebuilt"
    """A chain of inputs carries the change to the target."""
    CUT = "cut-by-fixed-output"
    """The target depends on a root, but every path passes a fixed-output derivation, whose output does not change."""
    NO_CHAIN = "no-chain"
    """The target does not depend on any root."""


@dataclass(frozen=True, slots=True)
class Step:
    """One derivation in a chain and the outputs of the previous step it takes."""

    #: The .drv path.
    drv: str
    #: The derivation name.
    name: str
    #: Outputs of the previous step this derivation takes (empty for the first step).
    outputs: tuple[str, ...]
    #: True for a fixed-output derivation (its output path does not change with its inputs).
    fixed_output: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"drv": self.drv, "name": self.name, "outputs": list(self.outputs), "fixed_output": self.fixed_output}


@dataclass(frozen=True, slots=True)
class Chain:
    """A path of derivations from a root to the target, input first."""

    steps: tuple[Step, ...]

    def text(self) -> str:
        """`qemu-2.6.0 →(out) nixos-test-driver →(out) vm-test-run-nat`; a fixed-output step is marked `[fixed]`."""
        parts = [self.steps[0].name + (" [fixed]" if self.steps[0].fixed_output else "")]
        for s in self.steps[1:]:
            parts.append(f"→({','.join(s.outputs)}) {s.name}" + (" [fixed]" if s.fixed_output else ""))
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"text": self.text(), "steps": [s.to_dict() for s in self.steps]}


@dataclass(frozen=True, slots=True)
class Cut:
    """A fixed-output derivation that stops the change on its way to the target."""

    #: The fixed-output .drv path.
    drv: str
    #: Its name, e.g. `hello-2.10.tar.gz`.
    name: str
    #: Its output path, which the hash fixes.
    output: str
    #: Root → … → the rebuilt input → the fixed-output derivation → … → target.
    chain: Chain

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"drv": self.drv, "name": self.name, "output": self.output, "chain": self.chain.to_dict()}


@dataclass(frozen=True, slots=True)
class TargetAnswer:
    """Why (or why not) the change rebuilds one target derivation."""

    #: The target's .drv path.
    drv: str
    #: Its name.
    name: str
    #: Its system.
    system: str
    #: The jobs that build it (`jobset: attr`).
    jobs: tuple[str, ...]
    #: What the change does to it.
    verdict: Verdict
    #: Chains from the roots, shortest first (one unless `--all`).
    chains: tuple[Chain, ...]
    #: How many distinct chains from the named roots there are (0 when not rebuilt).
    chain_count: int
    #: True when the target changes on every commit (reached from the roots that embed the nixpkgs source).
    every_commit: bool
    #: True when the chains come from the every-commit roots because no named root reaches the target.
    chains_from_commit: bool
    #: For `CUT`: the fixed-output derivations that stop the change, closest to the target first.
    cuts: tuple[Cut, ...]
    #: For `CUT`: how many fixed-output derivations stop it in all.
    cut_count: int
    #: One sentence saying why.
    reason: str

    @property
    def rebuilt(self) -> bool:
        """True when the change rebuilds the target."""
        return self.verdict in (Verdict.ROOT, Verdict.REBUILT)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "drv": self.drv,
            "name": self.name,
            "system": self.system,
            "jobs": list(self.jobs),
            "verdict": self.verdict.value,
            "rebuilt": self.rebuilt,
            "reason": self.reason,
            "chain_count": self.chain_count,
            "every_commit": self.every_commit,
            "chains_from_commit": self.chains_from_commit,
            "chains": [c.to_dict() for c in self.chains],
            "cut_count": self.cut_count,
            "cuts": [c.to_dict() for c in self.cuts],
        }


@dataclass(frozen=True, slots=True)
class WhyResult:
    """`impact why`: the answer for each derivation the target names."""

    #: The change.
    change: Change
    #: The target as the user gave it.
    target: str
    #: One answer per target derivation (a package name may name one per system).
    answers: tuple[TargetAnswer, ...]
    #: The most chains listed per target.
    limit: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape `impact why --json` prints)."""
        return {
            "change": self.change.description,
            "target": self.target,
            "limit": self.limit,
            "answers": [a.to_dict() for a in self.answers],
        }


def resolve_target(graph: DerivationGraph, target: str) -> list[int]:
    """The derivation rows a target names: a .drv path, a job attribute (with or without its system), or a
    derivation name."""
    t = target.strip()
    if t.endswith(".drv") or t.startswith("/"):
        i = graph.index.get(store_path(t))
        if i is None:
            raise UnknownNameError(
                f"derivation {t} is not in the snapshot {graph.origin}",
                tip="give a .drv path of the snapshot, a job attribute or a derivation name",
            )
        return [i]
    rows = [int(graph.job_drv[k]) for k, a in enumerate(graph.job_attrs) if a == t]
    if not rows:
        rows = [int(graph.job_drv[k]) for k, p in enumerate(graph.job_packages) if p == t]
    if not rows:
        rows = [i for i, n in enumerate(graph.names) if n == t]
    if not rows:
        pool = sorted(set(graph.job_packages))
        close = difflib.get_close_matches(t, pool, n=5, cutoff=0.6)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise UnknownNameError(
            f"no job, package or derivation {t!r} in snapshot {graph.origin}{hint}",
            tip="give a job attribute (tests.nat.standalone.x86_64-linux), a package (hello), a derivation name"
            " or a .drv path",
        )
    return sorted(set(rows))


def _chain(graph: DerivationGraph, rows: Sequence[int]) -> Chain:
    steps = [Step(graph.drv_paths[rows[0]], graph.names[rows[0]], (), bool(graph.fixed_output[rows[0]]))]
    for a, b in itertools.pairwise(rows):
        steps.append(
            Step(graph.drv_paths[b], graph.names[b], _walk.outputs_between(graph, a, b), bool(graph.fixed_output[b]))
        )
    return Chain(tuple(steps))


def _all_chains(
    graph: DerivationGraph, roots: np.ndarray, reached: np.ndarray, target: int, limit: int
) -> tuple[list[list[int]], int]:
    """Up to `limit` chains from `roots` to `target` inside the propagation graph, shortest first, and how many
    chains there are in all."""
    import networkx as nx

    ancestors = _walk.ancestors_propagating(graph, [target])
    inside = np.zeros(len(graph), dtype=bool)
    inside[np.intersect1d(ancestors, reached)] = True
    nodes = np.flatnonzero(inside)
    root_set = set(roots.tolist())
    g = nx.DiGraph()
    g.add_nodes_from(nodes.tolist())
    for c in nodes.tolist():
        if graph.fixed_output[c] and c not in root_set:
            continue
        for j, _ in graph.inputs_of(c):
            if inside[j]:
                g.add_edge(j, c)
    start = -1
    g.add_edges_from((start, int(r)) for r in roots.tolist() if inside[r])
    counts: dict[int, int] = {start: 1}
    for node in nx.topological_sort(g):
        if node != start:
            counts[node] = sum(counts.get(p, 0) for p in g.predecessors(node))
    if limit <= 1:
        return [], counts.get(target, 0)
    paths = [p[1:] for p in itertools.islice(nx.shortest_simple_paths(g, start, target), limit)]
    return paths, counts.get(target, 0)


def _cuts(graph: DerivationGraph, reached: np.ndarray, pred: np.ndarray, target: int) -> tuple[list[Cut], int]:
    """The fixed-output derivations that stop the change before `target`, closest first, with a chain each."""
    n = len(graph)
    ancestors = _walk.ancestors_all(graph, [target])
    rebuilt = np.zeros(n, dtype=bool)
    rebuilt[reached] = True
    candidates = [
        int(f)
        for f in ancestors.tolist()
        if graph.fixed_output[f] and not rebuilt[f] and any(rebuilt[j] for j, _ in graph.inputs_of(f))
    ]
    if not candidates:
        return [], 0
    # Distance from each candidate to the target, walking consumer → input from the target.
    _, back_pred = _walk.bfs(graph.input_indptr, graph.input_indices, n, [target])
    distance = {f: len(_walk.trace(back_pred, f, n)) for f in candidates}
    candidates.sort(key=lambda f: (distance[f], graph.names[f]))
    cuts = []
    for f in candidates[:MAX_CUTS_SHOWN]:
        feeder = next(j for j, _ in graph.inputs_of(f) if rebuilt[j])
        head = _walk.trace(pred, feeder, n)
        tail = _walk.trace(back_pred, f, n)[::-1]  # f → … → target
        chain = _chain(graph, [*head, *tail])
        cuts.append(Cut(graph.drv_paths[f], graph.names[f], ", ".join(graph.output_paths[f]), chain))
    return cuts, len(candidates)


def _jobs_of(graph: DerivationGraph, row: int) -> tuple[str, ...]:
    return tuple(f"{graph.job_jobsets[k]}: {graph.job_attrs[k]}" for k in graph.jobs_of_derivation.get(row, []))


def why(
    graph: DerivationGraph,
    change: Change,
    target: str,
    *,
    all_chains: bool = False,
    limit: int = DEFAULT_CHAIN_LIMIT,
) -> WhyResult:
    """Explain, for each derivation `target` names, by which chain `change` rebuilds it, or what stops it."""
    targets = resolve_target(graph, target)
    index = graph.index
    tree = set(change.source_tree_roots)
    named = np.array(sorted(index[p] for p in change.root_paths if p not in tree), dtype=np.int64)
    commit = np.array(sorted(index[p] for p in tree), dtype=np.int64)
    n = len(graph)
    reached_named, pred_named = _walk.forward_propagation(graph, named)
    reached_commit, pred_commit = _walk.forward_propagation(graph, commit)
    in_named = np.zeros(n, dtype=bool)
    in_named[reached_named] = True
    in_commit = np.zeros(n, dtype=bool)
    in_commit[reached_commit] = True
    commit_set = set(commit.tolist())
    root_rows = set(named.tolist()) | commit_set
    all_roots = np.concatenate([named, commit])
    reached_any = np.union1d(reached_named, reached_commit)
    pred_any: np.ndarray | None = None
    answers = []
    for t in targets:
        name, system, jobs = graph.names[t], graph.system_of(t), _jobs_of(graph, t)
        every_commit = bool(in_commit[t])
        if t in root_rows:
            kind = next(r for r in change.roots if r.path == graph.drv_paths[t])
            answers.append(
                TargetAnswer(
                    graph.drv_paths[t],
                    name,
                    system,
                    jobs,
                    Verdict.ROOT,
                    (_chain(graph, [t]),),
                    1,
                    every_commit,
                    t in commit_set,
                    (),
                    0,
                    f"{name} is a root of the change: {kind.reason}",
                )
            )
            continue
        if in_named[t] or in_commit[t]:
            from_commit = not in_named[t]
            roots, reached, pred = (
                (commit, reached_commit, pred_commit) if from_commit else (named, reached_named, pred_named)
            )
            paths, count = _all_chains(graph, roots, reached, t, limit * 4 if all_chains else 1)
            paths = paths or [_walk.trace(pred, t, n)]
            # Chains through different derivations of the same names read the same; list each text once.
            distinct = {c.text(): c for c in (_chain(graph, p) for p in paths)}
            chains = tuple(itertools.islice(distinct.values(), limit))
            first = chains[0]
            steps = len(first.steps) - 1
            reason = f"{first.steps[0].name} reaches {name} in {steps} step{'s' if steps != 1 else ''}"
            if from_commit:
                reason += (
                    "; only through the derivations that embed the nixpkgs source tree, which every commit changes"
                )
            elif every_commit:
                reason += "; it also changes on every commit (it depends on the nixpkgs source tree)"
            answers.append(
                TargetAnswer(
                    graph.drv_paths[t],
                    name,
                    system,
                    jobs,
                    Verdict.REBUILT,
                    chains,
                    count,
                    every_commit,
                    from_commit,
                    (),
                    0,
                    reason,
                )
            )
            continue
        ancestors = _walk.ancestors_all(graph, [t])
        if np.intersect1d(ancestors, all_roots).size == 0:
            answers.append(
                TargetAnswer(
                    graph.drv_paths[t],
                    name,
                    system,
                    jobs,
                    Verdict.NO_CHAIN,
                    (),
                    0,
                    False,
                    False,
                    (),
                    0,
                    f"{name} does not depend on any derivation the change touches: there is no chain",
                )
            )
            continue
        if pred_any is None:
            _, pred_any = _walk.forward_propagation(graph, all_roots)
        cuts, cut_count = _cuts(graph, reached_any, pred_any, t)
        names = ", ".join(c.name for c in cuts[:3]) + (f" and {cut_count - 3} more" if cut_count > 3 else "")
        answers.append(
            TargetAnswer(
                graph.drv_paths[t],
                name,
                system,
                jobs,
                Verdict.CUT,
                (),
                0,
                False,
                False,
                tuple(cuts),
                cut_count,
                f"{name} does not rebuild, because every chain to it passes a fixed-output derivation whose "
                f"output path is fixed by its hash: {names}",
            )
        )
    return WhyResult(change=change, target=target, answers=tuple(answers), limit=limit if all_chains else 1)
