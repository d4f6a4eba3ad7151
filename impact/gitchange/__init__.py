"""A git diff answered exactly: `impact estimate --git BASE..HEAD`.

The steps, one module each:

1. `changes` — the files the range changes, and both trees exported as Hydra sees them (no `.git`);
2. `syntax`, `facts`, `index` — every Nix file of BASE parsed by Nix, what each reads (paths, names), cached
   per file;
3. `bindings` — for each changed Nix file, which of its units changed (a package set's bindings);
4. `candidates` — from the changed units to the attributes they can change, over-approximated, or the reason
   the change cannot be bounded;
5. `targeted` — only the candidates evaluated with Nix, in BASE and in HEAD;
6. `verdict` — roots, added, removed and broken jobs; whether the snapshot stands for BASE; exact or not.

The roots are then propagated over the snapshot's graph (`impact.analysis.rebuild`), exactly as for any other
change: every consumer of a changed derivation changes, whichever outputs it takes, up to fixed-output
derivations.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact.errors import InputError
from impact.gitchange.bindings import FileChange, diff_file
from impact.gitchange.candidates import (
    Candidates,
    JobRecord,
    Unit,
    changed_attributes,
    package_sets,
    search,
    split_attr,
)
from impact.gitchange.changes import (
    ChangedFile,
    GitRange,
    apply_contents,
    blobs,
    cached_tree,
    changed_files,
    head_contents,
    link_tree,
    parse_range,
    restore_base,
)
from impact.gitchange.index import FACTS_VERSION, TreeIndex, build_index, cache_folder
from impact.gitchange.syntax import SyntaxMismatch, parse
from impact.gitchange.targeted import Evaluation, evaluate_side, only_paths, skipped_jobs
from impact.gitchange.verdict import Outcome, Verdict, compare, verification_jobs
from impact.model import DerivationGraph
from impact.nix import Limits, Nix, limited_runner

__all__ = ["GitAnswer", "GitChangeRequest", "answer", "parse_range"]

#: NixOS jobs evaluated in BASE to check the snapshot where it stands for BASE's whole NixOS jobset.
NIXOS_SPOT_CHECKS = 8
#: The `only` path of every job of the NixOS jobset.
WHOLE_NIXOS = {"jobset": "nixos", "path": []}


@dataclass(frozen=True)
class GitChangeRequest:
    """What to compare: `BASE..HEAD` or `BASE` (working tree) in the repository at `repo`."""

    spec: str
    repo: Path = Path(".")
    #: Evaluate every job of both sides instead of bounding the candidates (slow, always bounded).
    full: bool = False


@dataclass
class GitAnswer:
    """Everything the targeted evaluation found, for the report and its explanation."""

    range: GitRange
    files: list[ChangedFile]
    #: Changed `.nix` file → how it changed (binding diff).
    file_changes: dict[str, FileChange]
    candidates: Candidates
    outcome: Outcome
    verdict: Verdict
    #: Step → wall seconds.
    seconds: dict[str, float] = field(default_factory=dict)
    #: Nix processes: label, seconds, peak memory.
    processes: list[dict[str, Any]] = field(default_factory=list)
    #: Jobset → BASE's jobs taken from the snapshot, which records BASE's commit, instead of evaluated.
    base_from_snapshot: dict[str, int] = field(default_factory=dict)
    #: With `head_jobs` and an exact verdict: HEAD's job lines of every job the change moves (changed, added,
    #: broken), as a snapshot keeps them, and the show-derivation document of their derivations.
    head_lines: list[dict[str, Any]] = field(default_factory=list)
    head_derivations: dict[str, Any] = field(default_factory=dict)

    def how(self) -> dict[str, Any]:
        """How the answer was reached (the `git` section of the JSON)."""
        attributes = [f"{js}:{'.'.join(p) or '*'}" for js, p in changed_attributes(self.candidates)]
        return {
            "range": self.range.spec,
            "base": self.range.base,
            "head": self.range.head or "working tree",
            "files": [{"status": f.status, "path": f.path} for f in self.files],
            "file_changes": {p: c.why for p, c in sorted(self.file_changes.items())},
            "candidates": {
                "attributes": attributes,
                "jobs_by_position": sorted(f"{js}:{a}" for js, a in self.candidates.jobs),
                "units": len(self.candidates.reached),
            },
            "evaluated_jobs": dict(self.outcome.evaluated),
            "base_from_snapshot": dict(self.base_from_snapshot),
            "roots": [{"drv": d, "found_by": w} for d, w in sorted(self.outcome.roots.items())],
            "repointed": {f"{js}:{a}": d for (js, a), d in sorted(self.outcome.repointed.items())},
            "seconds": {k: round(v, 1) for k, v in self.seconds.items()},
            "nix_processes": self.processes,
        }


def answer(
    request: GitChangeRequest,
    graph: DerivationGraph,
    nix: Nix,
    limits: Limits,
    every_commit: set[tuple[str, str]],
    progress: Callable[[str], None] | None = None,
    head_jobs: Callable[[Outcome], Iterable[tuple[str, str]]] | None = None,
) -> GitAnswer:
    """Answer `request` on the snapshot `graph` (an evaluation of BASE): the targeted evaluation and verdict.

    `every_commit` are the snapshot's jobs that embed the nixpkgs source tree (they change with any commit).
    With `head_jobs` (the jobs the roots change over the graph, from the outcome), an exact answer also
    evaluates every job the change moves in HEAD, for a HEAD evaluation made of BASE's and those
    (`GitAnswer.head_lines`, `impact pr`).
    """
    seconds: dict[str, float] = {}
    clock = time.monotonic()

    def step(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        seconds[name] = seconds.get(name, 0.0) + now - clock
        clock = now
        if progress is not None:
            progress(name)

    r = parse_range(request.spec, request.repo)
    files = changed_files(r)
    base_blobs = blobs(r, r.base)
    if "pkgs/top-level/release.nix" not in base_blobs:
        raise InputError(
            f"--git {r.spec}: {r.base[:12]} of {r.repo} is not a nixpkgs tree (no pkgs/top-level/release.nix)",
            tip="run impact in a nixpkgs checkout, or give --repo the top folder of one",
        )
    step("changed files")
    jobs = [
        JobRecord(js, split_attr(a, s), a, _position_file(p))
        for js, a, s, p in zip(graph.job_jobsets, graph.job_attrs, graph.job_systems, graph.job_positions)
    ]
    cache = cache_folder()
    work_root = cache.parent / "work" if cache is not None else None
    if work_root is not None:
        work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="impact-git-", dir=work_root) as tmp:
        work = Path(tmp)
        base_tree = cached_tree(r, r.base, cache.parent / "trees" if cache is not None else work / "trees")
        contents = head_contents(r, files)
        head_files = work / "h" / "base"  # HEAD's version of each changed file, at its path, for the parser
        apply_contents(head_files, {p: c for p, c in contents.items() if c is not None and p.endswith(".nix")})
        step("export")
        parse_nix = Nix(
            store=nix.store, env=nix.env, runner=limited_runner(limits), store_root=nix.store_root
        ).parse_files
        index = build_index(base_tree, base_blobs, parse_nix, tree_id=r.base)
        sets = cached_package_sets(index, jobs, r.base, graph)
        step("references")
        file_changes, changed = _changed_units(files, base_tree, head_files, sets, parse_nix)
        step("bindings")
        if request.full:
            candidates = Candidates()
            candidates.attributes["nixpkgs"].add(())
            candidates.attributes["nixos"].add(())
        else:
            candidates = search(index, changed, sets, jobs)
        step("candidates")
        skip = skipped_jobs(graph)
        only = only_paths(candidates.attributes, ((js, split_attr(a, "")) for js, a in candidates.jobs), skip)
        systems = sorted(
            {s for js, s in zip(graph.job_jobsets, graph.job_systems) if js == "nixpkgs"} & _attr_systems(graph)
        )
        nixos_systems = sorted({s for js, s in zip(graph.job_jobsets, graph.job_systems) if js == "nixos"})
        sides = _Sides(nix, limits, work / "e" / "base", base_tree, contents, systems, nixos_systems, skip, graph)
        # The snapshot, which is BASE's evaluation, stands for BASE's whole NixOS jobset, checked on a few of its
        # jobs (and on every nixpkgs candidate): evaluating it again would double the longest step.
        sides.nixos_from_snapshot = not request.full
        # Unbounded, the answer is not exact whatever is evaluated: the graph carries the nixpkgs roots into the
        # NixOS jobs, and the longest step (about 20 minutes of one core for 2019's jobset) would only raise a
        # lower bound.
        sides.whole_nixos = not candidates.unbounded
        sides.every_commit = every_commit
        evaluations = sides.evaluate(only, step)
        sides.confirm_from_snapshot(evaluations, step)
        prefixes = _prefixes(candidates, sides)
        outcome = compare(graph, evaluations["base"], evaluations["head"], every_commit, prefixes)
        step("compare")
        # A binding whose jobs break, or that is re-pointed to a derivation BASE has, changes its plain users in
        # a way the graph cannot carry: they are searched and evaluated too.
        follow = plain_users_to_follow(candidates, outcome)
        if follow:
            wider = search(index, changed, sets, jobs, follow_plain=follow)
            wider_only = only_paths(wider.attributes, ((js, split_attr(a, "")) for js, a in wider.jobs), skip)
            extra = [o for o in wider_only if o not in only]
            if extra:
                more = sides.evaluate(extra, step, "plain users")
                for side in ("base", "head"):
                    evaluations[side].add(more[side].jobs.values())
                    evaluations[side].processes += more[side].processes
                    evaluations[side].from_snapshot.update(more[side].from_snapshot)
            candidates, only = wider, wider_only
            prefixes = _prefixes(candidates, sides)
            outcome = compare(graph, evaluations["base"], evaluations["head"], every_commit, prefixes)
            step("compare")
        # Derivations the candidates' changes may reach without Nix having evaluated them (the same package built
        # for another package set, as pkgsi686Linux, or a changed source borrowed): the jobs only they lead to
        # are evaluated too, so their answer is Nix's own.
        verify, unverified = verification_jobs(graph, outcome, evaluations["base"], every_commit)
        if verify:
            more = sides.evaluate(
                [{"jobset": js, "path": list(split_attr(a, ""))} for js, a in sorted(verify)], step, "verify"
            )
            for side in ("base", "head"):
                evaluations[side].add(more[side].jobs.values())
                evaluations[side].processes += more[side].processes
                evaluations[side].from_snapshot.update(more[side].from_snapshot)
            outcome = compare(graph, evaluations["base"], evaluations["head"], every_commit, prefixes)
            step("compare")
        reasons = _reasons(candidates, outcome, unverified, evaluations["head"])
        if sides.left_out_nixos:
            reasons.append("the NixOS jobset was not evaluated, the change being unbounded (--full evaluates it)")
        head_lines: list[dict[str, Any]] = []
        head_derivations: dict[str, Any] = {}
        if head_jobs is not None and not reasons:
            head_lines, head_derivations = sides.moved_jobs(graph, outcome, head_jobs(outcome), evaluations, step)
            outcome.evaluated["head"] = len(evaluations["head"].jobs)  # the moved jobs evaluated too
    processes = [
        {"label": f"{side}: {p.label}", "seconds": round(p.seconds, 1), "peak_rss": p.peak_rss}
        for side, e in evaluations.items()
        for p in e.processes
    ]
    return GitAnswer(
        range=r,
        files=files,
        file_changes=file_changes,
        candidates=candidates,
        outcome=outcome,
        verdict=Verdict(exact=not reasons, reasons=tuple(reasons)),
        seconds=seconds,
        processes=processes,
        head_lines=head_lines,
        head_derivations=head_derivations,
        base_from_snapshot=dict(evaluations["base"].from_snapshot),
    )


def _prefixes(candidates: Candidates, sides: _Sides) -> dict[str, set[tuple[str, ...]]]:
    """The attribute paths every snapshot job under which was evaluated in BASE (the whole NixOS jobset only
    when it was)."""
    prefixes = {js: set(paths) for js, paths in candidates.attributes.items()}
    for js, a in candidates.jobs:
        prefixes.setdefault(js, set()).add(split_attr(a, ""))
    if sides.left_out_nixos:
        prefixes.pop("nixos", None)  # its other paths were folded into the whole jobset, left out with it
    return prefixes


def _reasons(candidates: Candidates, outcome: Outcome, unverified: list[str], head: Evaluation) -> list[str]:
    """Why the answer is not Nix's own (empty: it is)."""
    reasons = [*candidates.unbounded, *outcome.mismatches, *unverified]
    inferred = sorted(f"{js}:{a}" for (js, a), line in head.jobs.items() if line.get("inferred"))
    if inferred:
        reasons.append(
            f"{len(inferred):,} jobs need a job that stopped Nix (e.g. {inferred[0]}): taken as failing for its sake"
            " without evaluating each"
        )
    for name in sorted(plain_users_to_follow(candidates, outcome)):
        reasons.append(
            f"`{name}`: re-pointed or broken, and {candidates.plain[name]:,} plain users of it were left to the"
            " graph, which cannot see that (impact pr evaluates both sides in full)"
        )
    return reasons


def plain_users_to_follow(candidates: Candidates, outcome: Outcome) -> frozenset[str]:
    """Bindings whose plain users were left to the graph although a job of theirs broke or was re-pointed."""
    names: set[str] = set()
    broken = [(js, a) for js, attrs in outcome.broken.items() for a in attrs]
    for js, attr in [*broken, *outcome.repointed]:
        path = split_attr(attr, attr.rsplit(".", 1)[-1])
        for candidate in candidates.attributes.get(js, ()):
            if candidate and path[: len(candidate)] == candidate and candidate[-1] in candidates.plain:
                names.add(candidate[-1])
    return frozenset(names - candidates.followed)


class _Sides:
    """BASE and HEAD evaluated at one folder: BASE linked from the cached tree, HEAD made from it by replacing
    the changed files (and put back to BASE for a further round)."""

    def __init__(
        self,
        nix: Nix,
        limits: Limits,
        place: Path,
        base_tree: Path,
        contents: dict[str, tuple[bytes, bool] | None],
        systems: list[str],
        nixos_systems: list[str],
        skip: dict[str, frozenset[str]],
        graph: DerivationGraph,
    ) -> None:
        self.nix, self.limits, self.place, self.base_tree, self.contents = nix, limits, place, base_tree, contents
        self.systems, self.nixos_systems = systems, nixos_systems or systems[:1]
        self.skip = sorted({n for names in skip.values() for n in names})
        self.graph = graph
        self.linked = False
        #: Whether the snapshot stands for BASE's whole NixOS jobset (checked on `NIXOS_SPOT_CHECKS` jobs).
        self.nixos_from_snapshot = False
        #: Whether the whole NixOS jobset may be evaluated, and whether it was left out.
        self.whole_nixos = True
        self.left_out_nixos = False
        self.every_commit: set[tuple[str, str]] = set()

    def needing(self, only: list[dict[str, Any]]) -> Callable[[Mapping[str, Any], str], list[dict[str, Any]]]:
        """The jobs under `only` whose snapshot derivations take, at any depth, the derivation that failed when a
        job stopped Nix (the innermost one Nix's trace names, else the job's own): Nix would fail on each of them
        for its sake."""
        graph = self.graph
        under = _jobs_under(graph, only)

        def needing(place: Mapping[str, Any], stderr: str = "") -> list[dict[str, Any]]:
            attr = ".".join(place["path"])
            rows = set()
            k = graph.job_index.get((str(place["jobset"]), attr))
            if k is not None:
                rows.add(int(graph.job_drv[k]))
            failed = _DERIVATION_IN_TRACE.search(stderr)
            if failed:
                system = attr.rsplit(".", 1)[-1]
                rows |= {i for i in _rows_named(graph, failed.group(1)) if graph.system_of(i) in (system, "builtin")}
            taking: set[int] = set()
            for row in rows:
                taking |= _consumers_closure(graph, row)
            return [
                {"jobset": js, "path": a.split(".")}
                for js, a, row in under
                if row in taking and (js, a) != (place["jobset"], attr)
            ]

        return needing

    def moved_jobs(
        self,
        graph: DerivationGraph,
        outcome: Outcome,
        changed: Iterable[tuple[str, str]],
        evaluations: dict[str, Evaluation],
        step: Callable[[str], None],
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """HEAD's lines of the jobs `changed` over the graph and of those the outcome adds or breaks (evaluating
        the ones the candidates did not cover), relative to the tree, and their derivations BASE lacks."""
        wanted = set(changed)
        wanted |= {(js, a) for js, attrs in outcome.added.items() for a in attrs}
        wanted |= {(js, a) for js, attrs in outcome.broken.items() for a in attrs}
        have = evaluations["head"]
        missing = sorted({(js, split_attr(a, a.rsplit(".", 1)[-1])) for js, a in wanted if (js, a) not in have.jobs})
        if missing:
            more = self.evaluate([{"jobset": js, "path": list(p)} for js, p in missing], step, "moved jobs", ("head",))
            have.add(more["head"].jobs.values())
            have.processes += more["head"].processes
        from impact.evaluate import relative_lines

        lines = relative_lines([dict(have.jobs[k]) for k in sorted(wanted) if k in have.jobs], self.place, self.nix)
        drvs = sorted({d for line in lines if isinstance(d := line.get("drvPath"), str) and d not in graph.index})
        shown = Nix(store=self.nix.store, env=self.nix.env, runner=limited_runner(self.limits),
                    store_root=self.nix.store_root)  # fmt: skip
        derivations = shown.show_derivation(drvs) if drvs else {}
        step("show HEAD's derivations")
        return lines, derivations

    def evaluate(
        self,
        only: list[dict[str, Any]],
        step: Callable[[str], None],
        label: str = "",
        sides: tuple[str, ...] = ("base", "head"),
    ) -> dict[str, Evaluation]:
        jobsets = set(self.graph.job_jobsets)
        only = [o for o in only if o["jobset"] in jobsets]  # a jobset the snapshot lacks is not answered
        if not self.whole_nixos and WHOLE_NIXOS in only:
            only.remove(WHOLE_NIXOS)
            self.left_out_nixos = True
        if not self.linked:
            link_tree(self.base_tree, self.place)
            self.linked = True
        else:
            restore_base(self.place, self.base_tree, list(self.contents))
        out: dict[str, Evaluation] = {}
        suffix = f" ({label})" if label else ""
        with self.nix.evaluating():
            for side in sides:
                if side == "head":
                    apply_contents(self.place, self.contents)
                evaluated, from_snapshot = only, False
                if side == "base" and self.nixos_from_snapshot and WHOLE_NIXOS in only:
                    evaluated = [o for o in only if o["jobset"] != "nixos"] + self.spot_checks()
                    from_snapshot = True
                out[side] = evaluate_side(
                    self.nix,
                    self.place,
                    needing_first(self.graph, evaluated),
                    self.systems,
                    self.nixos_systems,
                    self.limits,
                    self.skip,
                    needing=self.needing(evaluated),
                )
                if from_snapshot:
                    out[side].add(self.snapshot_lines("nixos"))
                    out[side].from_snapshot["nixos"] = self.graph.job_jobsets.count("nixos")
                step(f"evaluate {side.upper()}{suffix}")
        return out

    def confirm_from_snapshot(self, evaluations: dict[str, Evaluation], step: Callable[[str], None]) -> None:
        """Evaluate in BASE, here, the NixOS jobs whose HEAD line differs from the snapshot's that stood for BASE.

        The snapshot was made in another folder, and a few NixOS jobs write the tree's path into their derivations
        (`initrd-network-ssh` takes `toString ./dropbear.priv`); it may also lack jobs its evaluation could not
        reach. Only BASE evaluated at the folder HEAD was evaluated at says whether the change moved them: its lines
        replace the snapshot's (marked `confirmed`: they differ from the snapshot for that reason, not because the
        snapshot is another commit's, which the spot checks and the nixpkgs candidates check)."""
        base, head = evaluations["base"], evaluations["head"]
        if "nixos" not in base.from_snapshot:
            return

        def seen(line: Mapping[str, Any] | None) -> Any:
            return None if line is None else ("error" in line, line.get("outputs"))

        differ = sorted(
            key
            for key in base.jobs.keys() | head.jobs.keys()
            if key[0] == "nixos"
            and key not in self.every_commit
            and (key not in base.jobs or base.jobs[key].get("from_snapshot"))
            and seen(base.jobs.get(key)) != seen(head.jobs.get(key))
        )
        if not differ:
            return
        places = [{"jobset": js, "path": list(split_attr(a, a.rsplit(".", 1)[-1]))} for js, a in differ]
        more = self.evaluate(places, step, "BASE's NixOS jobs the snapshot stood for", ("base",))["base"]
        for key in differ:
            base.jobs.pop(key, None)
        base.add({**line, "confirmed": True} for line in more.jobs.values())
        base.processes += more.processes

    def spot_checks(self) -> list[dict[str, Any]]:
        """The NixOS jobs evaluated in BASE when the snapshot stands for the rest: a few, chosen by a hash of
        their names (the every-commit jobs aside, which differ from any snapshot)."""
        import hashlib

        graph = self.graph
        jobs = [
            (hashlib.sha256(a.encode()).hexdigest(), a, s)
            for js, a, s in zip(graph.job_jobsets, graph.job_attrs, graph.job_systems)
            if js == "nixos" and ("nixos", a) not in self.every_commit
        ]
        return [{"jobset": "nixos", "path": list(split_attr(a, s))} for _, a, s in sorted(jobs)[:NIXOS_SPOT_CHECKS]]

    def snapshot_lines(self, jobset: str) -> list[dict[str, Any]]:
        """The snapshot's jobs of `jobset` as job lines (drvPath and outputs: what the comparison reads)."""
        graph = self.graph
        return [
            {
                "attr": a,
                "jobset": js,
                "system": graph.job_systems[k],
                "drvPath": graph.drv_paths[graph.job_drv[k]],
                "outputs": dict(graph.job_outputs[k]),
                "from_snapshot": True,
            }
            for k, (js, a) in enumerate(zip(graph.job_jobsets, graph.job_attrs))
            if js == jobset
        ]


def cached_package_sets(
    index: TreeIndex, jobs: list[JobRecord], tree_id: str, graph: DerivationGraph
) -> dict[str, list[tuple[str, ...]]]:
    """`candidates.package_sets`, kept in the cache for this tree and snapshot (it reads every job)."""
    import hashlib
    import json

    folder = cache_folder()
    key = hashlib.sha256(
        f"{FACTS_VERSION}\0{tree_id}\0{graph.label}\0{graph.job_count}\0{len(graph)}".encode()
    ).hexdigest()[:24]
    path = folder / f"sets-{key}.json" if folder is not None else None
    if path is not None and path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return {f: [tuple(p) for p in prefixes] for f, prefixes in doc.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            pass
    sets = package_sets(index, jobs)
    if path is not None:
        from impact.writing import write_atomic

        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps({f: [list(p) for p in ps] for f, ps in sets.items()}).encode())
    return sets


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _jobs_under(graph: DerivationGraph, only: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(jobset, attr, derivation row) of the snapshot's jobs under the `only` paths."""
    paths: dict[str, set[tuple[str, ...]]] = {}
    for o in only:
        paths.setdefault(str(o["jobset"]), set()).add(tuple(o["path"]))
    out = []
    for js, attr, row in zip(graph.job_jobsets, graph.job_attrs, graph.job_drv.tolist()):
        parts = tuple(attr.split("."))
        if any(parts[: len(p)] == p for p in paths.get(js, ())):
            out.append((js, attr, row))
    return out


#: The innermost derivation Nix's trace names (`… while evaluating the attribute 'patches' of the derivation
#: 'go-1.11.5'`): the first such line, since Nix prints the trace from the innermost frame out.
_DERIVATION_IN_TRACE = re.compile(r"of the derivation '([^'\n]{1,211})'")


def _rows_named(graph: DerivationGraph, name: str) -> list[int]:
    """The derivations called `name`."""
    by_name: dict[str, list[int]] = graph.derived("rows_by_name", _by_name)
    return by_name.get(name, [])


def _by_name(graph: DerivationGraph) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, n in enumerate(graph.names):
        out.setdefault(n, []).append(i)
    return out


def _consumers_closure(graph: DerivationGraph, row: int) -> set[int]:
    """`row` and every derivation that takes it, at any depth, fixed-output ones included (a derivation Nix cannot
    instantiate fails whoever takes it, whatever its outputs are)."""
    indptr, consumers, _ = graph.consumer_indptr_indices
    seen = {row}
    todo = [row]
    while todo:
        r = todo.pop()
        for c in consumers[indptr[r] : indptr[r + 1]].tolist():
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def needing_first(graph: DerivationGraph, only: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`only` with the paths whose jobs most derivations take first: when one stops Nix, the jobs that need it
    are set aside with it (`_Sides.needing`) before each stops Nix in turn."""
    indptr = graph.consumer_indptr_indices[0]
    index = graph.job_index
    taken: dict[tuple[str, tuple[str, ...]], int] = {}
    for o in only:
        taken[(str(o["jobset"]), tuple(o["path"]))] = 0
    for (js, attr), k in index.items():
        parts = tuple(attr.split("."))
        for n in range(len(parts), 0, -1):
            key = (js, parts[:n])
            if key in taken:
                row = int(graph.job_drv[k])
                taken[key] = max(taken[key], int(indptr[row + 1] - indptr[row]))
                break
    return sorted(only, key=lambda o: -taken[(str(o["jobset"]), tuple(o["path"]))])


def _position_file(position: str | None) -> str | None:
    if not position:
        return None
    return position.rsplit(":", 1)[0] if ":" in position else position


def _attr_systems(graph: DerivationGraph) -> set[str]:
    """The systems the jobs' attributes end in (`….x86_64-linux`): the jobset's supportedSystems."""
    return {a.rsplit(".", 1)[-1] for a in graph.job_attrs}


def _changed_units(
    files: list[ChangedFile],
    base_tree: Path,
    head_tree: Path,
    sets: dict[str, list[tuple[str, ...]]],
    parse_nix: Callable[..., list[tuple[str | None, str | None]]],
) -> tuple[dict[str, FileChange], dict[Unit, str]]:
    """Each changed file's units: a `.nix` file present on both sides by the binding diff, any other whole."""
    both = [f.path for f in files if f.status in ("M", "T") and f.path.endswith(".nix")]
    base_texts = parse_nix([base_tree / p for p in both]) if both else []
    head_texts = parse_nix([head_tree / p for p in both]) if both else []
    file_changes: dict[str, FileChange] = {}
    for p, (bt, _), (ht, herr) in zip(both, base_texts, head_texts):
        if bt is None or ht is None:
            why = f"Nix cannot parse it in HEAD: {herr}" if ht is None else "Nix could not parse it in BASE"
            file_changes[p] = FileChange((Unit(p),), why)
            continue
        try:
            texts = [_text(tree / p) for tree in (base_tree, head_tree)]
            file_changes[p] = diff_file(p, parse(bt, str(base_tree)), parse(ht, str(head_tree)), *texts)
        except (SyntaxMismatch, RecursionError):
            file_changes[p] = FileChange((Unit(p),), "changed (not read binding by binding)")
    changed: dict[Unit, str] = {}
    for f in files:
        if f.path in file_changes:
            for u in file_changes[f.path].units:
                changed[u] = file_changes[f.path].why
        else:
            changed[Unit(f.path)] = {"A": "added", "D": "deleted"}.get(f.status, "changed")
    if not files:
        return file_changes, changed
    if any(f.path == ".git" or f.path.startswith(".git/") for f in files):
        raise InputError("a change to .git itself cannot be answered", tip="give a range of commits")
    return file_changes, changed
