"""The service layer: one request in, one answer out, for every question impact answers.

Each question is a frozen request dataclass (what the user asked, as values) and one function that loads what it
needs, runs the analyses and returns a frozen answer (the results, and the graph they refer to). The CLI parses
its options into a request and hands the answer to a renderer (`impact.render.formats`); `impact.api` (notebooks)
and the PR bot (`impact pr`) make the same calls. This module never renders: it imports loaders and analysis only,
each inside the function that needs it, so importing it (as every command does) costs nothing.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from impact.errors import InputError, UnknownNameError

if TYPE_CHECKING:
    from impact.analysis.branches import BranchComparison
    from impact.analysis.change import Change, Root
    from impact.analysis.compare import Comparison
    from impact.analysis.cost import ChangeCost
    from impact.analysis.diff import SnapshotDiff
    from impact.analysis.fail_on import Condition
    from impact.analysis.hydra import HydraComparison
    from impact.analysis.outputs import OutputsReport
    from impact.analysis.policy import Policy
    from impact.analysis.pr import PrReport
    from impact.analysis.rank import Ranking
    from impact.analysis.repoint import Repointing
    from impact.analysis.report import Report
    from impact.analysis.whatif import EstimateSections
    from impact.analysis.why import WhyResult
    from impact.evaluate import EvalSummary
    from impact.gitchange import GitAnswer, GitChangeRequest
    from impact.gitchange.verdict import Outcome
    from impact.github import PostResult
    from impact.loaders.cache import CacheInfo, CleanResult
    from impact.loaders.pr_report import Evaluated
    from impact.model import DerivationGraph
    from impact.nix import Limits, Nix

__all__ = [
    "BranchesRequest",
    "ChangeRequest",
    "CompareAnswer",
    "CompareRequest",
    "CostRequest",
    "EstimateAnswer",
    "EstimateRequest",
    "EvalRequest",
    "EvaluationRequest",
    "HydraCompareRequest",
    "OutputsAnswer",
    "OutputsRequest",
    "PostAnswer",
    "PostRequest",
    "PrRequest",
    "RankAnswer",
    "RankRequest",
    "RepointAnswer",
    "RepointRequest",
    "WhyAnswer",
    "WhyRequest",
    "branches",
    "cache_clean",
    "cache_info",
    "compare",
    "diff",
    "estimate",
    "evaluate",
    "hydra_compare",
    "hydra_fail_on",
    "import_snapshot",
    "outputs",
    "post",
    "pr",
    "pr_fail_on",
    "rank",
    "reproduce_command",
    "why",
]


def reproduce_command(command: str, arguments: Sequence[str], options: Sequence[tuple[str, object]]) -> str:
    """The shell command that reproduces an answer: `impact <command> ARGS --opt value …`.

    An option whose value is True is a flag; None, False and empty values are left out.
    """
    words = ["impact", command, *arguments]
    for name, value in options:
        if value is None or value is False or value == "" or value == ():
            continue
        if value is True:
            words.append(name)
        elif isinstance(value, (list, tuple)):
            for v in value:
                words += [name, str(v)]
        else:
            words += [name, str(value)]
    return shlex.join(words)


def _graph(snapshot: Path | None, graph: DerivationGraph | None) -> DerivationGraph:
    if graph is not None:
        return graph
    from impact.loaders import load_snapshot

    return load_snapshot(snapshot)


def _graph_for_base(snapshot: Path | None, base: str | None, graph: DerivationGraph | None) -> DerivationGraph:
    """The snapshot to answer on: `base`'s own shipped snapshot unless one is given (`snapshot_for_base`), its
    label extended with whether its data is `base`'s own, so every header says so."""
    if graph is not None:
        return graph
    from impact.loaders import load_snapshot
    from impact.snapshots import base_note, snapshot_for_base

    graph = load_snapshot(snapshot_for_base(snapshot, base))
    note = base_note(graph.meta, base)
    if note:
        graph.meta["label"] = f"{graph.label} · {note}"
    return graph


@dataclass(frozen=True)
class ChangeRequest:
    """A change as the user names it: attributes whose package file changes, changed files, exact derivations."""

    names: tuple[str, ...] = ()
    drvs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    #: The named attributes alone, without variants built from the same source.
    only: bool = False
    #: The change's own share: leave out the derivations that embed the nixpkgs source tree (every commit).
    own: bool = False

    @property
    def named(self) -> bool:
        """True when anything is named."""
        return bool(self.names or self.drvs or self.files)

    def resolve(self, graph: DerivationGraph) -> Change:
        """The change's roots in `graph`."""
        from impact.analysis.change import resolve_change

        commit = False if self.own else None
        return resolve_change(graph, self.names, self.drvs, self.files, only=self.only, commit=commit)

    def options(self) -> list[tuple[str, object]]:
        """The options that name this change on the command line."""
        return [("--file", self.files), ("--drv", self.drvs), ("--only", self.only), ("--own", self.own)]


@dataclass(frozen=True)
class CostRequest:
    """A cost section: build times to match, and the build farm to schedule on."""

    durations: tuple[Path, ...] = ()
    #: `N` and/or `SYSTEM=N` machine counts.
    machines: tuple[str, ...] = ()
    #: Build slots per machine (None: the default).
    cores: int | None = None

    def options(self) -> list[tuple[str, object]]:
        """The options that ask for this cost on the command line."""
        return [("--durations", self.durations), ("--machines", self.machines), ("--cores", self.cores)]


def _cost_of(graph: DerivationGraph, rebuilt: object, change: str, request: CostRequest, match: object) -> ChangeCost:
    from impact.analysis.cost import DEFAULT_CORES, change_cost, parse_machines

    return change_cost(
        graph,
        rebuilt,  # type: ignore[arg-type]
        change=change,
        match=match,  # type: ignore[arg-type]
        machines=parse_machines(request.machines),
        cores=DEFAULT_CORES if request.cores is None else request.cores,
    )


def _match(request: CostRequest) -> object:
    if not request.durations:
        return None
    from impact.analysis.cost import match_durations
    from impact.loaders.durations import load_all

    return match_durations(load_all(list(request.durations)))


def _policy(path: Path | None) -> Policy:
    from impact.analysis.policy import load_policy

    return load_policy(path)


@dataclass(frozen=True)
class EstimateRequest:
    """`impact estimate`: what a change rebuilds, with the sections and advice asked for."""

    change: ChangeRequest
    #: Add the blast radius.
    blast: bool = False
    #: What-if: only this output of the named package changes (`curl.man`, or `man` with a name given).
    only_output: str | None = None
    #: What-if: the named package gets this output split off.
    split_output: str | None = None
    #: Add the cost (None: no cost section).
    cost: CostRequest | None = None
    #: The branch the change is based on (None: the policy's default).
    base: str | None = None
    security: bool = False
    #: Branch rules as a TOML file (None: nixpkgs' rules).
    policy: Path | None = None
    #: The snapshot to read (None: $IMPACT_SNAPSHOT, else the embedded one).
    snapshot: Path | None = None
    #: A git range to answer by evaluating its candidates (`--git`), instead of named attributes or files.
    git: GitChangeRequest | None = None

    def command(self, output_format: str) -> str:
        """The shell command that reproduces this estimate in `output_format`."""
        cost = self.cost.options() if self.cost else []
        git = self.git
        options = [
            *self.change.options(),
            ("--git", git.spec if git else None),
            ("--repo", str(git.repo) if git and str(git.repo) != "." else None),
            ("--full", bool(git and git.full)),
            ("--base", self.base),
            ("--security", self.security),
            ("--policy", self.policy),
            ("--snapshot", self.snapshot),
            ("--format", output_format),
            ("--cost", self.cost is not None),
            *cost,
        ]
        return reproduce_command("estimate", self.change.names, options)


@dataclass(frozen=True)
class EstimateAnswer:
    """What `estimate` answers: the report (estimate, labels, branch, maintainers) and the sections asked for."""

    request: EstimateRequest
    graph: DerivationGraph
    report: Report
    #: Blast radius and what-ifs, when asked for.
    sections: EstimateSections | None = None
    cost: ChangeCost | None = None
    #: The targeted evaluation behind a `--git` answer: files, candidates, jobs added, removed and broken, verdict.
    git: GitAnswer | None = None


def estimate(
    request: EstimateRequest,
    graph: DerivationGraph | None = None,
    nix: Nix | None = None,
    limits: Limits | None = None,
    progress: Callable[[str], None] | None = None,
) -> EstimateAnswer:
    """Estimate what `request`'s change rebuilds in `graph` (default: the request's snapshot).

    A `--git` change is answered by evaluating its candidates with `nix` under `limits` (`estimate_git`).
    """
    from impact.analysis.rebuild import estimate as run_estimate
    from impact.analysis.report import build_report

    if request.git is not None:
        from impact.nix import Limits as DefaultLimits
        from impact.nix import private_nix

        return estimate_git(request, graph, nix or private_nix(), limits or DefaultLimits(), progress)
    change_request = request.change
    only_output_name = None
    if request.only_output:
        from impact.analysis.whatif import parse_output_spec

        names, only_output_name = parse_output_spec(request.only_output, change_request.names)
        change_request = ChangeRequest(names, *_rest(change_request))
    if not change_request.named:
        raise UnknownNameError(
            "no change named", tip="give an attribute (impact estimate qemu), --file PATH or --drv PATH"
        )
    graph = _graph_for_base(request.snapshot, request.base, graph)
    result = run_estimate(graph, change_request.resolve(graph))
    report = build_report(graph, result, _policy(request.policy), base=request.base, security=request.security)
    sections = None
    if request.blast or only_output_name or request.split_output:
        from impact.analysis.whatif import estimate_sections

        sections = estimate_sections(
            graph,
            result,
            blast=request.blast,
            only_output_name=only_output_name,
            split_output_name=request.split_output,
        )
    cost = None
    if request.cost is not None:
        cost = _cost_of(graph, result.built, result.change.description, request.cost, _match(request.cost))
    return EstimateAnswer(request=request, graph=graph, report=report, sections=sections, cost=cost)


def estimate_git(
    request: EstimateRequest,
    graph: DerivationGraph | None,
    nix: Nix,
    limits: Limits,
    progress: Callable[[str], None] | None = None,
) -> EstimateAnswer:
    """Answer a git range (`request.git`): evaluate its candidates on both sides, propagate the roots over the
    snapshot of BASE, and add the jobs added, removed and broken and the verdict."""
    import dataclasses

    from impact.analysis.labels import rebuild_labels
    from impact.analysis.policy import branch_advice
    from impact.analysis.rebuild import estimate as run_estimate
    from impact.analysis.report import Report, maintainers_of
    from impact.gitchange import answer as git_answer
    from impact.gitchange import parse_range

    assert request.git is not None
    if graph is None:
        graph = _graph(_snapshot_of_base(request, parse_range(request.git.spec, request.git.repo).base), None)
    tree_roots, every_commit = _every_commit(graph)
    found = git_answer(request.git, graph, nix, limits, every_commit, progress)
    result = run_estimate(graph, _git_change(graph, found.outcome, request.git.spec, tree_roots, bool(found.files)))
    extra: dict[str, set[str]] = {}
    for js, attr in found.outcome.repointed:
        extra.setdefault(js, set()).add(attr)
    if extra:
        merged = {
            js: tuple(sorted({*result.changed_jobs.get(js, ()), *extra.get(js, ())}))
            for js in {*result.changed_jobs, *extra}
        }
        by_system: dict[str, dict[str, int]] = {}
        systems = {(js, a): s for js, a, s in zip(graph.job_jobsets, graph.job_attrs, graph.job_systems)}
        for js, attrs in merged.items():
            for a in attrs:
                s = systems.get((js, a), "?")
                by_system.setdefault(js, {}).setdefault(s, 0)
                by_system[js][s] += 1
        result = dataclasses.replace(result, changed_jobs=merged, changed_jobs_by_system=by_system)
    counted = {
        js: [*result.changed_jobs.get(js, ()), *found.outcome.added.get(js, ())]
        for js in {*result.changed_jobs, *found.outcome.added}
    }
    labels = rebuild_labels(counted)
    policy = _policy(request.policy)
    report = Report(
        estimate=result,
        labels=labels,
        branch=branch_advice(result, labels, policy, base=request.base, security=request.security),
        maintainers=maintainers_of(graph, result),
        snapshot=graph.label,
    )
    return EstimateAnswer(request=request, graph=graph, report=report, git=found)


def _every_commit(graph: DerivationGraph) -> tuple[tuple[Root, ...], set[tuple[str, str]]]:
    """The roots that embed the nixpkgs source tree (they change with any commit), and the jobs they change."""
    from impact.analysis.change import Change, Root, RootKind, source_tree_derivations
    from impact.analysis.rebuild import estimate as run_estimate

    tree_roots = tuple(
        Root(
            graph.drv_paths[i],
            graph.names[i],
            graph.system_of(i),
            RootKind.SOURCE_TREE,
            "embeds the nixpkgs source tree: changes on every commit",
        )
        for i in source_tree_derivations(graph)
    )
    every = run_estimate(graph, Change("every commit", tree_roots))
    return tree_roots, {(js, a) for js, attrs in every.changed_jobs.items() for a in attrs}


def _git_change(
    graph: DerivationGraph, outcome: Outcome, spec: str, tree_roots: tuple[Root, ...], any_file: bool
) -> Change:
    """The change a git answer's outcome makes: its roots, and the source tree's when any file changed."""
    from impact.analysis.change import Change, Root, RootKind

    index = graph.index
    roots = tuple(
        Root(d, graph.names[index[d]], graph.system_of(index[d]), RootKind.EVALUATED, why)
        for d, why in sorted(outcome.roots.items())
    )
    return Change(f"--git {spec}", roots + (tree_roots if any_file else ()))


def _snapshot_of_base(request: EstimateRequest, base_commit: str) -> Path:
    """The snapshot to answer a `--git` range on: the one given, else the shipped snapshot of BASE's commit."""
    if request.snapshot is not None:
        return request.snapshot
    import os

    from impact.snapshots import SHIPPED, SNAPSHOT_ENV, resolve

    if os.environ.get(SNAPSHOT_ENV):
        return resolve(None)
    for s in SHIPPED:
        if s.commit == base_commit:
            return s.path
    raise InputError(
        f"--git: no snapshot of BASE ({base_commit[:12]}): impact needs the evaluation of the commit the change is"
        " based on",
        tip="give --snapshot NAME|FILE (an evaluation of BASE; impact eval makes one), or rebase onto a shipped one",
    )


def import_snapshot(
    source: str | Path, output: Path, meta: Mapping[str, str | None], *, compressed: bool = False
) -> DerivationGraph:
    """Load `source` (any supported format), record `meta` (label, branch, commit, date; None values are left
    out) and write it to `output` as a compact snapshot, rows in name order; the graph written is returned.

    The file is version 2 (memory-mapped, with its tables) unless `compressed` asks for the small version-1
    file that the repository ships (impact maps a version-2 copy of it from its cache on first use)."""
    from impact.analysis.tables import prepare
    from impact.gitinfo import valid_branch, valid_commit, valid_date
    from impact.loaders import load_snapshot
    from impact.loaders.compact import write_compact, write_compact_v1
    from impact.snapshots import in_name_order

    checks = {
        "commit": (valid_commit, "40 hexadecimal digits"),
        "branch": (valid_branch, "a branch name, e.g. release-19.03"),
        "date": (valid_date, "YYYY-MM-DD"),
    }
    for key, (valid, want) in checks.items():
        if meta.get(key) and not valid(meta[key]):
            raise InputError(f"--{key} {meta[key]!r}: not {want}", tip=f"give the evaluated tree's {key}")
    graph = in_name_order(load_snapshot(source))
    graph.meta.update({k: v for k, v in meta.items() if v})
    if compressed:
        write_compact_v1(graph, output)
    else:
        write_compact(prepare(graph), output)
    return graph


@dataclass(frozen=True)
class RepointRequest:
    """`impact estimate --repoint ATTRIBUTE=TARGET`: an attribute re-pointed to derivations that exist already."""

    #: `ATTRIBUTE=TARGET`, e.g. `linuxPackages=linuxPackages_4_19`.
    spec: str
    #: The snapshot to read (None: $IMPACT_SNAPSHOT, else the embedded one).
    snapshot: Path | None = None


@dataclass(frozen=True)
class RepointAnswer:
    """The bounds the graph gives for a re-pointing (the exact answer needs an evaluation)."""

    graph: DerivationGraph
    repointing: Repointing


def repoint(request: RepointRequest, graph: DerivationGraph | None = None) -> RepointAnswer:
    """Bound what re-pointing an attribute rebuilds: the graph alone cannot see which consumers follow it."""
    from impact.analysis.repoint import parse_repoint
    from impact.analysis.repoint import repoint as bound

    attribute, target = parse_repoint(request.spec)
    graph = _graph(request.snapshot, graph)
    return RepointAnswer(graph, bound(graph, attribute, target))


def _rest(change: ChangeRequest) -> tuple[tuple[str, ...], tuple[str, ...], bool, bool]:
    return change.drvs, change.files, change.only, change.own


@dataclass(frozen=True)
class CompareRequest:
    """`impact compare`: several changes side by side; each change is one or more attribute names."""

    changes: tuple[tuple[str, ...], ...]
    only: bool = False
    own: bool = False
    base: str | None = None
    security: bool = False
    policy: Path | None = None
    #: The cost side by side (None: no cost).
    cost: CostRequest | None = field(default_factory=CostRequest)
    snapshot: Path | None = None

    def command(self, output_format: str) -> str:
        """The shell command that reproduces this comparison in `output_format`."""
        options = [
            ("--only", self.only),
            ("--own", self.own),
            ("--base", self.base),
            ("--security", self.security),
            ("--policy", self.policy),
            ("--no-cost", self.cost is None),
            *(self.cost.options() if self.cost else []),
            ("--snapshot", self.snapshot),
            ("--format", output_format),
        ]
        return reproduce_command("compare", [",".join(c) for c in self.changes], options)


@dataclass(frozen=True)
class CompareAnswer:
    """What `compare` answers: the comparison, and each change's cost by name when asked for."""

    request: CompareRequest
    graph: DerivationGraph
    comparison: Comparison
    costs: dict[str, ChangeCost] | None = None


def compare(request: CompareRequest, graph: DerivationGraph | None = None) -> CompareAnswer:
    """Estimate each change of `request` on its own and put them side by side, with labels and branch advice."""
    from impact.analysis.compare import compare as run_compare

    if not request.changes or not all(request.changes):
        raise UnknownNameError("no change named", tip="name each change, e.g. impact compare qemu linux_4_4")
    graph = _graph_for_base(request.snapshot, request.base, graph)
    resolved = [ChangeRequest(names, only=request.only, own=request.own).resolve(graph) for names in request.changes]
    policy = _policy(request.policy)
    comparison = run_compare(graph, resolved, policy, base=request.base, security=request.security)
    costs = None
    if request.cost is not None:
        match = _match(request.cost)
        costs = {
            c.name: _cost_of(graph, c.report.estimate.built, c.name, request.cost, match) for c in comparison.changes
        }
    return CompareAnswer(request=request, graph=graph, comparison=comparison, costs=costs)


@dataclass(frozen=True)
class WhyRequest:
    """`impact why`: by which chain a change rebuilds a target, or what stops it."""

    target: str
    change: ChangeRequest
    #: Every chain, shortest first, up to `limit`.
    all_chains: bool = False
    limit: int = 10
    snapshot: Path | None = None


@dataclass(frozen=True)
class WhyAnswer:
    """What `why` answers."""

    request: WhyRequest
    graph: DerivationGraph
    result: WhyResult


def why(request: WhyRequest, graph: DerivationGraph | None = None) -> WhyAnswer:
    """Explain why `request`'s change rebuilds its target, or what stops it."""
    from impact.analysis.why import why as run_why

    if not request.change.named:
        raise UnknownNameError("no change named", tip="give one, e.g. impact why tests.nat.standalone --change qemu")
    graph = _graph(request.snapshot, graph)
    change = request.change.resolve(graph)
    result = run_why(graph, change, request.target, all_chains=request.all_chains, limit=request.limit)
    return WhyAnswer(request=request, graph=graph, result=result)


@dataclass(frozen=True)
class OutputsRequest:
    """`impact outputs`: each output of a package and who takes it."""

    name: str
    only: bool = False
    snapshot: Path | None = None


@dataclass(frozen=True)
class OutputsAnswer:
    """What `outputs` answers."""

    request: OutputsRequest
    graph: DerivationGraph
    report: OutputsReport


def outputs(request: OutputsRequest, graph: DerivationGraph | None = None) -> OutputsAnswer:
    """Each output of the package `request` names, its consumers and jobs, per derivation."""
    from impact.analysis.outputs import package_outputs

    graph = _graph(request.snapshot, graph)
    report = package_outputs(graph, request.name, only=request.only)
    return OutputsAnswer(request=request, graph=graph, report=report)


@dataclass(frozen=True)
class RankRequest:
    """`impact rank`: every package of a jobset by what a change to it rebuilds."""

    jobset: str = "nixpkgs"
    #: Sort by this kernel's jobs (`linux`, `darwin`), else all jobs.
    kernel: str | None = None
    snapshot: Path | None = None
    #: Also find the stdenv-level tie at the top (for `--plot`): one more propagation over every package.
    band: bool = False


@dataclass(frozen=True)
class RankAnswer:
    """What `rank` answers."""

    request: RankRequest
    graph: DerivationGraph
    ranking: Ranking
    #: How many leading rows are the stdenv-level tie (`stdenv_band`); 0 when not asked for.
    band: int = 0


def rank(request: RankRequest, graph: DerivationGraph | None = None) -> RankAnswer:
    """Rank every package of the request's jobset (aliases of one derivation in one row), and with `band` how
    many leading rows are the stdenv-level tie."""
    from impact.analysis.rank import rank as run_rank

    graph = _graph(request.snapshot, graph)
    ranking = run_rank(graph, jobset=request.jobset, kernel=request.kernel)
    band = 0
    if request.band:
        from impact.analysis.landscape import stdenv_band, stdenv_level

        band = stdenv_band(ranking, stdenv_level(graph, request.jobset))
    return RankAnswer(request=request, graph=graph, ranking=ranking, band=band)


@dataclass(frozen=True)
class BranchesRequest:
    """`impact branches`: two snapshots side by side."""

    a: Path
    b: Path


def branches(request: BranchesRequest) -> BranchComparison:
    """Jobs only in A, only in B and with other output paths, per jobset and system; derivations new on each side."""
    from impact.analysis.branches import compare_branches
    from impact.loaders import load_snapshot

    return compare_branches(load_snapshot(request.a), load_snapshot(request.b))


def cache_info() -> CacheInfo:
    """What impact's cache holds: each version-2 snapshot copy and the files it stands for, older copies, and
    the private Nix store of `impact eval`."""
    from impact.loaders.cache import info

    return info()


def cache_clean() -> CleanResult:
    """Remove every snapshot copy from impact's cache (each is made again on first use)."""
    from impact.loaders.cache import clean

    return clean()


class Progress(Protocol):
    """A job counter an evaluation reports to (the CLI draws one on the terminal)."""

    def __call__(self, count: int) -> None: ...

    def done(self) -> None:
        """The evaluation ended."""


@dataclass(frozen=True)
class EvaluationRequest:
    """Two sides to evaluate and diff exactly: each a snapshot, a nixpkgs checkout, or a git ref of `repo`."""

    base: str
    head: str
    repo: Path = Path(".")
    systems: tuple[str, ...] = ("x86_64-linux",)
    nixos: bool = False


@dataclass(frozen=True)
class PrRequest:
    """`impact pr`: the PR bot's report on a pull request's base and head."""

    sides: EvaluationRequest
    #: The branch the pull request targets.
    base_branch: str = "master"
    #: The Nix store evaluated into (None: impact's private one).
    store: str | None = None
    #: The evaluation's time limit in seconds, and its memory limit.
    timeout: float = 3600.0
    memory: str = "8G"
    #: Hydra's builds of the base and the head evaluation (JSON of /eval/<id>/builds, or CSV), both or neither.
    hydra_base: Path | None = None
    hydra_head: Path | None = None
    #: How much the evaluation may add to the Nix store.
    store_limit: str = "16G"
    #: `--fail-on` conditions (`impact.analysis.fail_on`): checked by `fail_on` once the report is written.
    fail_on: tuple[str, ...] = ()
    #: BASE's evaluation, read instead of evaluating BASE when both sides are git refs (`--base-snapshot`).
    base_snapshot: Path | None = None
    #: Evaluate both sides in full even when the git change can be answered exactly.
    full: bool = False

    def command(self) -> str:
        """The command that reproduces the report (shown in the comment): every option that was used."""
        s = self.sides
        return reproduce_command(
            "pr",
            [s.base, s.head],
            [
                ("--system", list(s.systems)),
                ("--nixos", s.nixos),
                ("--repo", s.repo if s.repo != Path(".") else None),
                ("--base-snapshot", self.base_snapshot),
                ("--full", self.full),
                ("--base-branch", self.base_branch if self.base_branch != "master" else None),
                ("--store", self.store),
                ("--timeout", f"{self.timeout:g}" if self.timeout != 3600.0 else None),
                ("--memory", self.memory if self.memory != "8G" else None),
                ("--store-limit", self.store_limit if self.store_limit != "16G" else None),
                ("--hydra-base", self.hydra_base),
                ("--hydra-head", self.hydra_head),
            ],
        )


def side_graph(
    spec: str,
    role: str,
    request: EvaluationRequest,
    work: Path,
    nix: Callable[[], Nix],
    limits: Limits,
    progress: Callable[[str], Progress],
) -> DerivationGraph:
    """The graph of one side: a snapshot is read, a checkout evaluated, a shipped snapshot's name read (unless it
    is also a git ref of the repo: then it is ambiguous), anything else is a git ref of the repo.

    `nix` makes the `Nix` to evaluate with, only when a side needs evaluating (it may create a store).
    """
    from impact.evaluate import evaluate_checkout, export_ref, is_checkout
    from impact.gitinfo import ref_source
    from impact.loaders import load_snapshot

    path = Path(spec)
    label = spec
    if path.exists() and not is_checkout(path):
        return load_snapshot(path)
    shipped = None if path.exists() else _shipped_side(spec, request.repo)
    if shipped is not None:
        return load_snapshot(shipped)
    known: dict[str, str] | None = None  # a checkout: what git says of it, when it is a work tree
    if path.exists():
        source = path
    else:
        source = work / f"{role}-src"
        commit = export_ref(request.repo, spec, source)
        label = f"{spec} ({commit[:7]})"
        known = ref_source(request.repo, spec, commit)
    on_job = progress(f"evaluating {role} {spec}")
    try:
        store = nix()
        evaluate_checkout(
            source,
            work / f"{role}-snapshot",
            store,
            systems=list(request.systems),
            nixos=request.nixos,
            limits=limits,
            on_job=on_job,
            gc=store.store_root is not None,  # impact's private store: nothing in it is needed afterwards
            source=known,
        )
    finally:
        on_job.done()
    graph = load_snapshot(work / f"{role}-snapshot")
    graph.meta["label"] = label
    return graph


def _shipped_side(spec: str, repo: Path) -> Path | None:
    """The file of the shipped snapshot `spec` names (`impact snapshot list`), or None when it names none; an
    error when `spec` is also a git ref of `repo`, since either could be meant."""
    from impact.gitinfo import names_commit
    from impact.snapshots import find

    found = find(spec)
    if found is None:
        return None
    if names_commit(repo, spec):
        raise InputError(
            f"{spec!r} is both a shipped snapshot and a git ref of {repo}: ambiguous",
            tip=f"for the snapshot give its file ({found.path}); for the git ref its full name (refs/heads/{spec}) "
            "or its commit",
        )
    return found.path


def _sides(
    request: EvaluationRequest, nix: Callable[[], Nix], limits: Limits, progress: Callable[[str], Progress]
) -> tuple[DerivationGraph, DerivationGraph]:
    import tempfile

    limits = limits.started()  # one deadline for both sides
    with tempfile.TemporaryDirectory(prefix="impact-") as tmp:
        work = Path(tmp)
        base = side_graph(request.base, "base", request, work, nix, limits, progress)
        head = side_graph(request.head, "head", request, work, nix, limits, progress)
    return base, head


def diff(
    request: EvaluationRequest, nix: Callable[[], Nix], limits: Limits, progress: Callable[[str], Progress]
) -> SnapshotDiff:
    """Evaluate what needs evaluating and diff the two sides by output paths, with the graph cross-check."""
    from impact.analysis.diff import diff_snapshots

    return diff_snapshots(*_sides(request, nix, limits, progress))


def pr(request: PrRequest, nix: Callable[[], Nix], limits: Limits, progress: Callable[[str], Progress]) -> PrReport:
    """The PR bot's report: evaluate base and head, diff them, labels, branch, maintainers and why-chains."""
    from impact.analysis.hydra import compare_builds
    from impact.analysis.pr import pr_report
    from impact.loaders.hydra_builds import load_hydra_builds

    if (request.hydra_base is None) != (request.hydra_head is None):
        raise InputError("--hydra-base and --hydra-head go together", tip="give both evaluations' builds, or neither")
    _pr_conditions(request)  # a condition impact does not know fails before any evaluation
    hydra = None
    if request.hydra_base and request.hydra_head:  # read first: a bad file fails before any evaluation
        base_builds, head_builds = load_hydra_builds(request.hydra_base), load_hydra_builds(request.hydra_head)
        hydra = compare_builds(
            base_builds, head_builds, base_label=request.hydra_base.name, head_label=request.hydra_head.name
        )
    from impact.loaders.pr_report import Evaluated

    limits = limits.started()  # one deadline for everything evaluated
    git = _git_refs(request.sides)
    if request.base_snapshot is not None and not git:
        raise InputError(
            "--base-snapshot needs both sides to be git refs of --repo",
            tip="give BASE and HEAD as git refs (commits, branches), or leave --base-snapshot out",
        )
    evaluated = Evaluated()
    if git and not request.full:
        base, head, evaluated = _pr_from_git(request, nix, limits, progress)
    elif request.base_snapshot is not None:
        import tempfile

        from impact.loaders import load_snapshot
        from impact.snapshots import resolve

        base = load_snapshot(resolve(request.base_snapshot))
        with tempfile.TemporaryDirectory(prefix="impact-") as tmp:
            head = side_graph(request.sides.head, "head", request.sides, Path(tmp), nix, limits, progress)
    else:
        base, head = _sides(request.sides, nix, limits, progress)
    return pr_report(base, head, request.command(), base_branch=request.base_branch, hydra=hydra, evaluated=evaluated)


def _git_refs(sides: EvaluationRequest) -> bool:
    """Whether both sides are git refs of the repository (not a snapshot, a checkout or a shipped name)."""
    from impact.snapshots import find

    return all(not Path(spec).exists() and find(spec) is None for spec in (sides.base, sides.head))


def _pr_from_git(
    request: PrRequest, nix: Callable[[], Nix], limits: Limits, progress: Callable[[str], Progress]
) -> tuple[DerivationGraph, DerivationGraph, Evaluated]:
    """BASE evaluated in full (or read from `--base-snapshot`); HEAD made from it and the git change when that is
    answered exactly, else evaluated in full too (and BASE as well, when the snapshot turned out not to be BASE's)."""
    import tempfile

    from impact.analysis.rebuild import estimate as run_estimate
    from impact.gitchange import GitChangeRequest, answer
    from impact.gitchange.head import head_graph
    from impact.loaders import load_snapshot
    from impact.loaders.pr_report import Evaluated
    from impact.snapshots import resolve

    s = request.sides
    spec = f"{s.base}..{s.head}"
    with tempfile.TemporaryDirectory(prefix="impact-") as tmp:
        work = Path(tmp)
        if request.base_snapshot is not None:
            base = load_snapshot(resolve(request.base_snapshot))
        else:
            base = side_graph(s.base, "base", s, work, nix, limits, progress)
        tree_roots, every_commit = _every_commit(base)

        def moved(outcome: Outcome) -> list[tuple[str, str]]:
            result = run_estimate(base, _git_change(base, outcome, spec, tree_roots, True))
            return [*((js, a) for js, attrs in result.changed_jobs.items() for a in attrs), *outcome.repointed]

        found = answer(GitChangeRequest(spec, s.repo), base, nix(), limits, every_commit, None, head_jobs=moved)
        if found.verdict.exact:
            label = f"{s.head} ({found.range.head[:7]})" if found.range.head else s.head
            head = head_graph(base, found, label)
            return base, head, Evaluated("git", head_jobs=found.outcome.evaluated.get("head", 0))
        if request.base_snapshot is not None and any(r.startswith("snapshot:") for r in found.verdict.reasons):
            base = side_graph(s.base, "base", s, work, nix, limits, progress)
        head = side_graph(s.head, "head", s, work, nix, limits, progress)
    return base, head, Evaluated("full", not_exact=found.verdict.reasons)


def _pr_conditions(request: PrRequest) -> tuple[Condition, ...]:
    from impact.analysis.fail_on import parse_conditions

    hydra = request.hydra_base is not None
    return parse_conditions(request.fail_on, verdicts=hydra, labels=True, command="impact pr")


def pr_fail_on(request: PrRequest, report: PrReport) -> None:
    """Raise `ConditionMet` (exit 3) naming the `--fail-on` conditions that hold for `report`; nothing when none
    does. Called once the report is written and printed."""
    _fail_on(_pr_conditions(request), report.hydra.verdict if report.hydra else None, report.labels)


def _fail_on(conditions: Sequence[Condition], verdict: str | None, labels: Sequence[str]) -> None:
    from impact.analysis.fail_on import holding
    from impact.errors import ConditionMet

    held = holding(conditions, verdict, labels)
    if held:
        given = " ".join(f"--fail-on {c.text}" for c in conditions)
        raise ConditionMet(f"{'; '.join(held)} ({given})")


@dataclass(frozen=True)
class HydraCompareRequest:
    """`impact hydra-compare`: Hydra's builds of two evaluations to compare, and the conditions to fail on."""

    base: Path
    head: Path
    #: `--fail-on` conditions: verdicts (`breaks`, `restart`, `wait`, `not-ok`).
    fail_on: tuple[str, ...] = ()


def hydra_compare(request: HydraCompareRequest) -> HydraComparison:
    """Load both evaluations' builds and compare them (a bad `--fail-on` fails first)."""
    from impact.analysis.fail_on import parse_conditions
    from impact.analysis.hydra import compare_builds
    from impact.loaders.hydra_builds import load_hydra_builds

    parse_conditions(request.fail_on, verdicts=True, labels=False, command="impact hydra-compare")
    return compare_builds(
        load_hydra_builds(request.base),
        load_hydra_builds(request.head),
        base_label=request.base.name,
        head_label=request.head.name,
    )


def hydra_fail_on(request: HydraCompareRequest, comparison: HydraComparison) -> None:
    """Raise `ConditionMet` (exit 3) when a `--fail-on` verdict of `request` is the comparison's."""
    from impact.analysis.fail_on import parse_conditions

    conditions = parse_conditions(request.fail_on, verdicts=True, labels=False, command="impact hydra-compare")
    _fail_on(conditions, comparison.verdict, ())


@dataclass(frozen=True)
class EvalRequest:
    """`impact eval`: evaluate one nixpkgs checkout's Hydra jobs into a snapshot folder."""

    checkout: Path
    output: Path
    systems: tuple[str, ...] = ("x86_64-linux",)
    nixos: bool = False
    #: `nix-instantiate` (the shipped jobs.nix) or `nix-eval-jobs`, with `workers` evaluators in parallel.
    evaluator: str = "nix-instantiate"
    workers: int = 1
    #: The jobs cut into `chunks` stable slices, only slice `chunk` evaluated when given, `jobs` Nix processes at
    #: a time.
    chunks: int = 1
    chunk: int | None = None
    jobs: int = 1
    #: Top-level job names left out (NAME* is a prefix).
    skip: tuple[str, ...] = ()
    #: The most throw/assert errors whose message is read.
    explain: int = 25
    #: Garbage-collect impact's private store afterwards.
    gc: bool = True


def evaluate(request: EvalRequest, nix: Nix, limits: Limits, progress: Callable[[str], Progress]) -> EvalSummary:
    """Evaluate the checkout with `nix` under `limits`, counting jobs on `progress`, and write the snapshot."""
    from impact.evaluate import evaluate_checkout

    on_job = progress(f"evaluating {request.checkout}")
    try:
        return evaluate_checkout(
            request.checkout,
            request.output,
            nix,
            systems=list(request.systems),
            nixos=request.nixos,
            limits=limits,
            on_job=on_job,
            evaluator=request.evaluator,
            workers=request.workers,
            chunks=request.chunks,
            chunk=request.chunk,
            jobs=request.jobs,
            skip=request.skip,
            explain=request.explain,
            gc=request.gc,
        )
    finally:
        on_job.done()


@dataclass(frozen=True)
class PostRequest:
    """`impact post`: put a report made by `impact pr` on a GitHub pull request."""

    #: The pull request: its number, or a file holding it (one of the two).
    pr: int | None = None
    #: The folder holding report.md and report.json, or a report.md.
    report: Path = Path(".")
    pr_file: Path | None = None
    #: Post only if the report's head-sha file and the pull request's head commit are both this commit.
    head_sha: str | None = None
    #: owner/name (None: $GITHUB_REPOSITORY), and the API base URL (None: $GITHUB_API_URL, else GitHub's).
    repo: str | None = None
    api_url: str | None = None
    #: The environment variable holding the token.
    token_env: str = "GITHUB_TOKEN"
    #: The labels to set (None: the labels in report.json).
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PostAnswer:
    """What `impact post` did, on which repository and pull request."""

    repo: str
    pr: int
    result: PostResult


def post(request: PostRequest, environ: Mapping[str, str]) -> PostAnswer:
    """Check the token, the repository, the pull request and the report (another job's artifact), then post it.

    The comment is rendered here from report.json's data, checked field by field, and the labels are computed
    from its numbers: nothing of the artifact reaches GitHub as Markdown or as a label name. `environ` gives the
    token and the defaults ($GITHUB_REPOSITORY, $GITHUB_API_URL).
    """
    from impact.analysis.labels import KERNELS, KNOWN_LABELS
    from impact.github import (
        DEFAULT_API_URL,
        REPO_NAME,
        GitHub,
        check_report_head,
        check_token,
        post_report,
        read_pr_number,
        report_comment,
    )
    from impact.loaders.pr_report import read_pr_report

    token = environ.get(request.token_env, "")
    if not token:
        raise InputError(
            f"${request.token_env} is not set: no token to post with",
            tip="in GitHub Actions, pass env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
        )
    check_token(token, f"${request.token_env}")
    repo = request.repo or environ.get("GITHUB_REPOSITORY")
    if not repo or not REPO_NAME.fullmatch(repo):
        raise InputError(
            f"no repository to post to ({repo[:100] if repo else 'none given'!r})",
            tip="pass --repo owner/name or set $GITHUB_REPOSITORY",
        )
    if (request.pr is None) == (request.pr_file is None):
        raise InputError(
            "give the pull request as --pr N or as --pr-file FILE (one of them)",
            tip="in a workflow, pass --pr with the event's pull request number",
        )
    pr = read_pr_number(request.pr_file) if request.pr_file is not None else request.pr
    assert pr is not None
    folder = request.report if request.report.is_dir() else request.report.parent
    if request.head_sha is not None:
        check_report_head(folder / "head-sha", request.head_sha)
    comment = read_pr_report(request.report, KERNELS)
    markdown, labels = report_comment(comment)
    if request.labels is not None:
        labels = list(request.labels)
    unknown = [label for label in labels if label not in KNOWN_LABELS]
    if unknown:
        raise InputError(
            f"{unknown[0][:80]!r} is not a label impact sets; nothing posted",
            tip="impact sets only the 10.rebuild-* labels nixpkgs CI defines (buckets, -stdenv, nixos-tests)",
        )
    api_url = request.api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    result = post_report(
        GitHub(repo=repo, token=token, api_url=api_url), pr, markdown, labels, head_sha=request.head_sha
    )
    return PostAnswer(repo, pr, result)
