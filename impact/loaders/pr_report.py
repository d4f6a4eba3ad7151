"""report.json as `impact post` reads it: what the PR comment says, as data, checked field by field.

`impact pr` writes the comment's content under `comment` in report.json, and `impact post` renders the
comment from it, in the job that holds the write token: it never posts Markdown it was handed. The file comes
from another job (a workflow artifact), so it is input like any other: every field must have its type, every
string is bounded and every list too, every word that selects wording (`kind`, `paired_by`, a Hydra result)
is one of the few the code writes, and counts are non-negative and agree with their lists. Anything else is
one line naming the field (`report.json: field comment.causes[0].chain is a number, expected a string`).

The dataclasses here are the comment's vocabulary: the renderer (`impact.render.pr`) takes a `PrComment`,
whether built from the analysis (`impact pr`) or read back (`impact post`), so both give the same text.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from impact.errors import InputError
from impact.loaders._io import open_regular, parse_json

#: The format of the `comment` object; bumped when its shape changes (2: the headline table counts the changed
#: jobs and splits them, and the removed jobs that no longer evaluate are told from those gone without an error).
COMMENT_VERSION = 2
#: Entries a list of the comment carries at most: the 10 shown and the 500 a fold holds at most.
MAX_LISTED = 510
#: Characters one string of the comment holds at most (an evaluation error is cut to 300 when shown).
MAX_TEXT = 4000
#: The most bytes of report.json read.
MAX_REPORT_BYTES = 64 * 1024 * 1024
#: A count no real evaluation reaches (nixpkgs has about 10^5 jobs and 10^6 derivations).
MAX_COUNT = 10**9

#: A headline row: the changed jobs of a jobset (bold) and their parts, which add up to it (rebuilt, re-pointed,
#: every commit; the NixOS VM tests are part of the rebuilt); the added jobs and their re-pointed and
#: every-commit parts; the removed jobs, those that no longer evaluate and those gone without an error.
RowKind = Literal[
    "changed",
    "rebuilt",
    "tests",
    "changed_repointed",
    "changed_every_commit",
    "added",
    "added_repointed",
    "added_every_commit",
    "removed",
    "removed_failing",
    "removed_gone",
]
PairedBy = Literal["job", "name", "package", "new"]
RootKind = Literal["edited", "follows", "every_commit"]


@dataclass(frozen=True)
class Evaluated:
    """How `impact pr` evaluated the two sides."""

    #: `full`: both sides evaluated in full; `git`: HEAD's evaluation made from BASE's and an exact answer of the
    #: git change (`impact estimate --git`), Nix evaluating in HEAD only the jobs it can move.
    method: Literal["full", "git"] = "full"
    #: With `git`: the jobs Nix evaluated in HEAD (the candidates, then every job the change moves).
    head_jobs: int = 0
    #: With `full` after the git change was tried: why it could not be answered exactly.
    not_exact: tuple[str, ...] = ()


#: Both sides evaluated in full.
FULL = Evaluated()


@dataclass(frozen=True)
class JobRef:
    """A job: its jobset and attribute."""

    jobset: str
    attr: str


@dataclass(frozen=True)
class HeadlineRow:
    """One row of the headline table: jobs of one kind in one jobset, per system."""

    kind: RowKind
    jobset: str
    per_system: dict[str, int]
    total: int
    #: For `changed` rows: how many jobs the jobset has in HEAD.
    of: int | None = None


@dataclass(frozen=True)
class Branch:
    """Which branch takes the pull request, under which rules, and why."""

    target: str
    base: str
    policy: str
    alternatives: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LabelFacts:
    """What the `10.rebuild-*` labels follow from: the labels themselves are computed from these numbers, so
    a report can only ask for labels the code would set."""

    #: Kernel evaluated (`linux`, `darwin`) → packages rebuilt on it, as nixpkgs CI counts.
    counts: dict[str, int]
    #: Kernels on which `stdenv` rebuilds.
    stdenv: tuple[str, ...]
    #: Whether the simplest NixOS VM test rebuilds.
    nixos_tests: bool


@dataclass(frozen=True)
class RepointLine:
    """Attributes re-pointed to derivations the base had, grouped by the alias edit that explains them."""

    jobset: str
    head_prefix: str
    base_prefix: str
    also: tuple[str, ...]
    members: tuple[str, ...]
    members_total: int
    name: str
    base_name: str | None
    systems: tuple[str, ...]
    jobs: int


@dataclass(frozen=True)
class CauseLine:
    """A root change, how many rebuilt jobs it reaches, and a why-chain to one of them."""

    name: str
    base_name: str | None
    paired_by: PairedBy
    system: str
    swapped: tuple[str, ...]
    follows_repointing: bool
    jobs_reached: int
    example_job: str
    chain: str


@dataclass(frozen=True)
class EvalErrorLine:
    """A job the base evaluated that no longer evaluates, with the evaluator's message."""

    jobset: str
    attr: str
    error: str
    base_jobs: int


@dataclass(frozen=True)
class RepointedJob:
    """A job that now points to a derivation the base already built."""

    jobset: str
    attr: str
    name: str
    before: tuple[str, ...]


@dataclass(frozen=True)
class RootLine:
    """A root change (changed while none of its inputs did)."""

    name: str
    base_name: str | None
    paired_by: PairedBy
    system: str
    kind: RootKind


@dataclass(frozen=True)
class NamedList:
    """A titled list: the packages rebuilt on one platform, or the jobs of one jobset."""

    name: str
    items: tuple[str, ...]
    total: int


#: The words a Hydra result is written in (`impact.loaders.hydra_builds.BUILD_STATUS`, and `queued`).
HYDRA_WORDS = frozenset(
    {
        "succeeded",
        "failed",
        "dependency failed",
        "aborted",
        "cancelled",
        "failed with output",
        "timed out",
        "cached failure",
        "unsupported system type",
        "log limit exceeded",
        "output limit exceeded",
        "not deterministic",
        "queued",
    }
)


@dataclass(frozen=True)
class HydraJob:
    """One job's Hydra results in base and head."""

    job: str
    base: str | None
    head: str
    build: int | None


@dataclass(frozen=True)
class HydraList:
    """Jobs of one kind of Hydra result, the first of them listed."""

    items: tuple[HydraJob, ...]
    total: int


@dataclass(frozen=True)
class HydraSection:
    """Hydra's builds of the two evaluations: the counts the verdict follows from, and the jobs."""

    base_label: str
    head_label: str
    base_builds: int
    head_builds: int
    still_failing: int
    #: Newly failing jobs whose own build never ran (a dependency failed).
    dependency_failures: int
    newly_failing: HydraList
    transient: HydraList
    queued: HydraList
    new_jobs_failing: HydraList
    newly_succeeding: HydraList


@dataclass(frozen=True)
class PrComment:
    """Everything the PR comment says, as data (`impact.render.pr.comment_markdown` writes it)."""

    base_label: str
    head_label: str
    #: The `impact pr` command that reproduces the report.
    command: str
    #: The systems of the headline table's columns, Linux first.
    systems: tuple[str, ...]
    rows: tuple[HeadlineRow, ...]
    derivations_by_system: dict[str, int]
    derivations: int
    every_commit_derivations: int
    labels: LabelFacts
    branch: Branch
    #: Maintainers of the edited packages.
    maintainers: tuple[str, ...]
    repointings: tuple[RepointLine, ...]
    causes: tuple[CauseLine, ...]
    #: Whether the graph estimate agrees with Nix, the disagreements, and the notes on the base's prediction.
    agrees: bool
    head_check: tuple[str, ...]
    base_prediction: tuple[str, ...]
    new_eval_errors: tuple[EvalErrorLine, ...]
    new_eval_errors_total: int
    #: The base jobs under the attributes that no longer evaluate.
    new_eval_error_jobs: int
    hydra: HydraSection | None
    #: Packages rebuilt per platform (as CI counts), and rebuilt jobs of the other jobsets.
    platforms: tuple[NamedList, ...]
    jobsets: tuple[NamedList, ...]
    added: tuple[JobRef, ...]
    added_total: int
    #: The removed jobs gone without an evaluation error (the release file no longer lists them), and those
    #: that no longer evaluate (at or under a new evaluation error).
    removed_gone: tuple[JobRef, ...]
    removed_gone_total: int
    removed_failing: tuple[JobRef, ...]
    removed_failing_total: int
    repointed: tuple[RepointedJob, ...]
    repointed_total: int
    every_commit: tuple[JobRef, ...]
    every_commit_total: int
    roots: tuple[RootLine, ...]
    roots_total: int
    #: The changed jobs the graph estimate reaches from the roots.
    estimate_changed_jobs: int
    #: How the two sides were evaluated.
    evaluated: Evaluated = FULL

    def to_dict(self) -> dict[str, Any]:
        """The `comment` object of report.json."""
        return {"version": COMMENT_VERSION, **_plain(self)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- reading -----------------------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"field {where} {problem}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object"
    )


def _read(hint: Any, value: Any, where: str) -> Any:
    """`value` as the type `hint` says, or `_Refused` naming `where`."""
    origin = typing.get_origin(hint)
    if origin is types.UnionType or origin is typing.Union:
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _read(inner, value, where)
    if origin is Literal:
        if value not in typing.get_args(hint) or not isinstance(value, str):
            raise _Refused(where, f"is not one of {', '.join(typing.get_args(hint))}")
        return value
    if origin is tuple:
        (inner, _) = typing.get_args(hint)
        if not isinstance(value, list):
            raise _Refused(where, f"is {_kind(value)}, expected a list")
        if len(value) > MAX_LISTED:
            raise _Refused(where, f"holds {len(value):,} entries, more than {MAX_LISTED}")
        return tuple(_read(inner, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        _, inner = typing.get_args(hint)
        if not isinstance(value, dict):
            raise _Refused(where, f"is {_kind(value)}, expected an object")
        if len(value) > MAX_LISTED:
            raise _Refused(where, f"holds {len(value):,} entries, more than {MAX_LISTED}")
        return {_read(str, k, f"{where} (a key)"): _read(inner, v, f"{where}[{k[:40]!r}]") for k, v in value.items()}
    if hint is str:
        if not isinstance(value, str):
            raise _Refused(where, f"is {_kind(value)}, expected a string")
        if len(value) > MAX_TEXT:
            raise _Refused(where, f"is longer than {MAX_TEXT:,} characters")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise _Refused(where, f"is {_kind(value)}, expected true or false")
        return value
    if hint is int:
        if type(value) is not int:
            raise _Refused(where, f"is {_kind(value)}, expected a whole number")
        if not 0 <= value <= MAX_COUNT:
            raise _Refused(where, f"is {value}, not a count")
        return value
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _Refused(where, f"is {_kind(value)}, expected an object")
        hints = typing.get_type_hints(hint)
        fields = {f.name: f for f in dataclasses.fields(hint)}
        unknown = sorted(set(value) - set(fields) - ({"version"} if hint is PrComment else set()))
        if unknown:
            raise _Refused(f"{where}[{unknown[0][:40]!r}]", "is not one the report has")
        kept = {}
        for name, f in fields.items():
            if name not in value:
                if f.default is dataclasses.MISSING:
                    raise _Refused(f"{where}.{name}", "is missing")
                continue
            kept[name] = _read(hints[name], value[name], f"{where}.{name}")
        return hint(**kept)  # type: ignore[operator]
    raise AssertionError(f"no reader for {hint!r}")


def _agree(comment: PrComment) -> None:
    """The counts of a comment must cover its lists, and its systems be distinct."""
    for name in ("new_eval_errors", "added", "removed_gone", "removed_failing", "repointed", "every_commit", "roots"):
        if len(getattr(comment, name)) > getattr(comment, f"{name}_total"):
            raise _Refused(f"comment.{name}_total", f"is less than the {len(getattr(comment, name))} entries listed")
    _rows_agree(comment)
    for group in ("platforms", "jobsets"):
        for i, named in enumerate(getattr(comment, group)):
            if len(named.items) > named.total:
                raise _Refused(f"comment.{group}[{i}].total", "is less than the entries listed")
    for i, r in enumerate(comment.repointings):
        if len(r.members) > r.members_total:
            raise _Refused(f"comment.repointings[{i}].members_total", "is less than the members listed")
    if len(set(comment.systems)) != len(comment.systems):
        raise _Refused("comment.systems", "names a system twice")
    hydra = comment.hydra
    if hydra is not None:
        for name in ("newly_failing", "transient", "queued", "new_jobs_failing", "newly_succeeding"):
            listed = getattr(hydra, name)
            if len(listed.items) > listed.total:
                raise _Refused(f"comment.hydra.{name}.total", "is less than the entries listed")
            for i, job in enumerate(listed.items):
                for side in ("base", "head"):
                    word = getattr(job, side)
                    if word is not None and word not in HYDRA_WORDS and not _status_code(word):
                        raise _Refused(f"comment.hydra.{name}.items[{i}].{side}", "is not a Hydra result")
        if hydra.dependency_failures > hydra.newly_failing.total:
            raise _Refused("comment.hydra.dependency_failures", "is more than the jobs newly failing")


def _rows_agree(comment: PrComment) -> None:
    """Each headline row's systems add up to its total, and the rows to the lists they count."""
    totals: dict[str, int] = {}
    for i, row in enumerate(comment.rows):
        if sum(row.per_system.values()) != row.total:
            raise _Refused(f"comment.rows[{i}].per_system", f"does not add up to the row's total {row.total:,}")
        if row.kind == "changed" and (row.of is None or row.of < row.total):
            raise _Refused(f"comment.rows[{i}].of", "is not a count of the jobs the changed ones are among")
        if row.kind != "changed" and row.of is not None:
            raise _Refused(f"comment.rows[{i}].of", "is set on a row that is not the changed jobs")
        totals[row.kind] = totals.get(row.kind, 0) + row.total
    for name, rows in (
        ("added_total", totals.get("added", 0)),
        ("removed_failing_total", totals.get("removed_failing", 0)),
        ("removed_gone_total", totals.get("removed", 0) - totals.get("removed_failing", 0)),
    ):
        if getattr(comment, name) != rows:
            raise _Refused(f"comment.{name}", f"is not the {rows:,} jobs the headline rows count")


def _status_code(word: str) -> bool:
    number = word.removeprefix("status ")
    return word.startswith("status ") and number.lstrip("-").isdigit() and len(number) <= 6


def parse_pr_comment(data: Any, origin: str, kernels: tuple[str, ...]) -> PrComment:
    """The comment of report.json `data` (read from `origin`), checked field by field; `kernels` are those the
    labels may name (`impact.analysis.labels.KERNELS`)."""
    tip = "the report must be written by `impact pr` of this version; nothing posted"
    if not isinstance(data, dict) or not isinstance(data.get("comment"), dict):
        raise InputError(f"{origin}: no `comment` object (not a report.json of `impact pr`)", tip=tip)
    version = data["comment"].get("version")
    if version != COMMENT_VERSION:
        shown = json.dumps(version)[:20] if isinstance(version, str | int | None) else "not a number"
        raise InputError(f"{origin}: comment version {shown}, expected {COMMENT_VERSION}", tip=tip)
    try:
        comment: PrComment = _read(PrComment, data["comment"], "comment")
        _agree(comment)
        for kernel in [*comment.labels.counts, *comment.labels.stdenv]:
            if kernel not in kernels:
                raise _Refused("comment.labels", f"names the kernel {kernel[:40]!r}, not one of {', '.join(kernels)}")
        if not set(comment.labels.stdenv) <= set(comment.labels.counts):
            raise _Refused("comment.labels.stdenv", "names a kernel that was not evaluated")
    except _Refused as e:
        raise InputError(f"{origin}: {e}", tip=tip) from None
    return comment


def read_pr_report(path: Path, kernels: tuple[str, ...]) -> PrComment:
    """The comment of the report.json at `path` (or in the folder `path`), checked (`parse_pr_comment`)."""
    file = path / "report.json" if path.is_dir() else path
    if file.name == "report.md":  # the pair's other half: the comment is never taken as Markdown
        file = file.with_name("report.json")
    try:
        with open(open_regular(file), "rb", closefd=True) as f:
            raw = f.read(MAX_REPORT_BYTES + 1)
    except InputError as e:
        raise InputError(str(e), tip="run `impact pr` first; it writes report.json") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise InputError(f"{file}: larger than {MAX_REPORT_BYTES:,} bytes; not a report of `impact pr`")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{file}: not UTF-8 text; not a report of `impact pr`") from None
    return parse_pr_comment(parse_json(text, str(file)), str(file), kernels)


def comment_json(comment: PrComment) -> str:
    """The comment as compact JSON (for tests and tools)."""
    return json.dumps(comment.to_dict(), ensure_ascii=False)
