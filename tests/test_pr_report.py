"""report.json's `comment`: what `impact post` renders the comment from, in the job that holds the write token.

Read back, it gives the same comment `impact pr` wrote (the four real 2016 cases, with a Hydra section, and
lists long enough to fold) and the same labels; any value anywhere in it is refused with one line or read,
never a traceback; and what is read can only be rendered as text: whatever its strings say, the comment has
no live HTML, mention or link.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact.analysis.hydra import compare_builds
from impact.analysis.labels import KERNELS, KNOWN_LABELS
from impact.analysis.pr import PrReport, pr_report
from impact.errors import InputError
from impact.loaders.hydra_builds import load_hydra_builds
from impact.loaders.pr_report import MAX_LISTED, parse_pr_comment
from impact.render.pr import comment_labels, comment_markdown, pr_comment, pr_markdown
from tests.pr_cases import CASES, base_graph, head_graph
from tests.pr_reports import evaluations
from tests.test_pr_comment import HYDRA, graphs, removed_graphs

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_back(report: PrReport) -> Any:
    """The comment as `impact post` reads it: through JSON text, then checked."""
    data = json.loads(json.dumps(pr_comment(report).to_dict()))
    return parse_pr_comment({"comment": data}, "report.json", KERNELS)


def reports() -> list[PrReport]:
    hydra = compare_builds(load_hydra_builds(HYDRA / "base-builds.json"), load_hydra_builds(HYDRA / "head-builds.json"))
    found = [pr_report(base_graph(), head_graph(case), f"impact pr a1884e63 {case}") for case in CASES]
    return [
        *found,
        pr_report(*graphs(), "impact pr base head", hydra=hydra),
        pr_report(*evaluations(), "x"),
        pr_report(*removed_graphs(), "impact pr base head"),  # removed jobs: failing ones and gone ones
    ]


@pytest.fixture(scope="module")
def all_reports() -> list[PrReport]:
    return reports()


def test_the_comment_read_back_is_the_comment_written(all_reports: list[PrReport]) -> None:
    for report in all_reports:
        comment = read_back(report)
        assert comment == pr_comment(report)
        assert comment_markdown(comment) == pr_markdown(report)
        assert comment_labels(comment) == report.labels  # the labels follow from the numbers alone
    folded = [r for r in all_reports if "<details>" in pr_markdown(r)]
    assert folded and any(r.hydra for r in all_reports)  # long lists and a Hydra section were read back
    assert any(r.diff.removed_failing("nixos") for r in all_reports)  # and removed jobs told apart


def test_the_headline_rows_split_the_changed_jobs_and_the_removed() -> None:
    """The rows carry main's table: the changed jobs, their parts adding up to them, and the removed jobs split
    into those that no longer evaluate and those gone without an error, as the lists are."""
    comment = read_back(pr_report(*removed_graphs(), "impact pr base head"))
    assert [(r.kind, r.total, r.of) for r in comment.rows] == [
        ("changed", 0, 1),
        ("removed", 4, None),
        ("removed_failing", 3, None),
        ("removed_gone", 1, None),
    ]
    assert [j.attr for j in comment.removed_failing] == ["tests.foo", "tests.foo.a", "tests.foo.b"]
    assert [j.attr for j in comment.removed_gone] == ["tests.foobar.c"]
    repointing = read_back(pr_report(*graphs(), "impact pr base head"))
    changed, *parts = [r for r in repointing.rows if r.kind.startswith("changed") or r.kind in ("rebuilt", "tests")]
    assert changed.kind == "changed" and changed.total == sum(p.total for p in parts if p.kind != "tests") == 3


@pytest.mark.parametrize(
    "forge, field",
    [
        (lambda c: c["rows"][1].update({"total": c["rows"][1]["total"] + 1}), "rows[1].per_system"),
        (lambda c: c["rows"][1]["per_system"].update({"x86_64-linux": 40}), "rows[1].per_system"),
        (lambda c: c["rows"][0].update({"of": None}), "rows[0].of"),
        (lambda c: c["rows"][0].update({"total": 2, "of": 1, "per_system": {"x86_64-linux": 2}}), "rows[0].of"),
        (lambda c: c["rows"][1].update({"of": 7}), "rows[1].of"),
        (lambda c: c.update({"removed_gone_total": 4}), "comment.removed_gone_total"),
        (lambda c: c.update({"removed_failing_total": 9}), "comment.removed_failing_total"),
        (lambda c: c.update({"added_total": 2}), "comment.added_total"),
    ],
)
def test_headline_numbers_that_do_not_add_up_are_refused(forge: Any, field: str) -> None:
    """A forged report cannot make the table and the lists tell different stories: each row's systems add up
    to it, a changed row is of the jobset's jobs, and the lists' counts are what the rows count."""
    data = json.loads(json.dumps(pr_comment(pr_report(*removed_graphs(), "impact pr base head")).to_dict()))
    forge(data)
    with pytest.raises(InputError, match=re.escape(field)):
        parse_pr_comment({"comment": data}, "report.json", KERNELS)


def test_lists_are_carried_up_to_what_a_comment_shows(all_reports: list[PrReport]) -> None:
    """A list of thousands is carried as its first entries and its count: the comment says `… and N more`."""
    kernel = next(r for r in all_reports if r.command.endswith("kernel"))
    comment = pr_comment(kernel)
    data = comment.to_dict()
    assert all(len(v) <= MAX_LISTED for v in data.values() if isinstance(v, list))
    assert comment.roots_total == len(kernel.diff.roots)


def test_labels_are_only_ever_known_ones() -> None:
    """Whatever counts a report.json holds, the labels computed from them are labels impact sets."""
    base = pr_comment(pr_report(*evaluations(), "x")).to_dict()
    for counts in ({"linux": 0}, {"linux": 10**9, "darwin": 501}, {}, {"darwin": 7}):
        data = copy.deepcopy(base)
        data["labels"] = {"counts": counts, "stdenv": list(counts), "nixos_tests": True}
        labels = comment_labels(parse_pr_comment({"comment": data}, "r", KERNELS))
        assert labels and set(labels) <= KNOWN_LABELS


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


SAMPLE = pr_comment(pr_report(*graphs(), "impact pr base head")).to_dict()
SAMPLE_PATHS = _paths(SAMPLE)
HOSTILE = st.sampled_from(
    [
        "</details><img src=https://tracker.example/p.gif>",
        "@NixOS/nixpkgs-committers please merge",
        "[log in](https://evil.example/login)",
        "see https://evil.example/login and www.evil.example",
        "NixOS/nixpkgs#1 GH-2 #3",
        "`",
        "x\n## heading",
        "|",
        "",
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20) | HOSTILE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)

LIVE = re.compile(
    r"(?i)<(?!/?details>|/?summary>|!--)[a-z/!]|@(?!\u200b)\w|(?<!\\)\]\(|\b(?:https?|ftp)://|\bwww\.|(?:^|[\s(])#\d"
    r"|\bgh-\d"
)


def _outside_code(markdown: str) -> str:
    kept, fence = [], None
    for line in markdown.splitlines():
        m = re.match(r"(`{3,})", line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            kept.append(re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", "CODE", line))
    return "\n".join(kept)


@FAST
@given(st.sampled_from(SAMPLE_PATHS), json_values | HOSTILE)
def test_any_value_anywhere_is_refused_or_rendered_as_text(path: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(SAMPLE)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        comment = parse_pr_comment({"comment": data}, "report.json", KERNELS)
    except InputError as e:
        assert str(e).startswith("report.json: ") and "\n" not in str(e)
        return
    markdown = comment_markdown(comment)
    assert not LIVE.search(_outside_code(markdown)), (path, value, LIVE.search(_outside_code(markdown)))
    assert set(comment_labels(comment)) <= KNOWN_LABELS
