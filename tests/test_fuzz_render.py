"""Property-based fuzzing of the Markdown that reaches a PR comment (hypothesis): whatever the package,
attribute, jobset, system and maintainer names, the estimate, compare and pr renderers give Markdown where no name
opens or closes a fold, adds HTML, mentions anyone, makes a link or breaks a table; and the escape helpers and the
cut to GitHub's limit keep their promises on any text."""

from __future__ import annotations

import dataclasses
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact.analysis.change import resolve_change
from impact.analysis.compare import compare
from impact.analysis.pr import pr_report
from impact.analysis.rebuild import estimate
from impact.analysis.report import build_report
from impact.model import Derivation, DerivationGraph, Job
from impact.render.compare import compare_markdown
from impact.render.escape import close_open_blocks, code_span, html_text, inline_text, one_line, table_cell
from impact.render.formats import OutputFormat, render_estimate
from impact.render.pr import pr_markdown

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
S = "/nix/store/"

hostile = st.sampled_from(
    [
        "`",
        "``",
        "|",
        "</details>",
        "<details>",
        "<img src=x onerror=alert(1)>",
        "@alice",
        "@NixOS/security",
        "[x](javascript:alert(1))",
        "\n# heading",
        "\r\n",
        "<!--",
        "-->",
        "```",
        "~~~",
        "&amp;",
        "*",
        "_",
        "\\",
        "- item",
        "> quote",
        "1. ordered",
        "\u2028",
        "\x00",
    ]
)
names = st.lists(hostile | st.text(max_size=6), min_size=1, max_size=4).map("".join)
ALLOWED_TAGS = re.compile(r"</?details>|</?summary>|<br>|<!-- impact-report -->")


def outside_code(markdown: str) -> str:
    """The Markdown without fenced blocks and code spans, where markup is live."""
    kept, fence = [], None
    for line in markdown.splitlines():
        m = re.match(r" {0,3}(`{3,}|~{3,})", line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = None
        elif fence is None:
            # a code span opens at a run of backticks not escaped by a backslash and closes at a run as long
            kept.append(re.sub(r"(?<![\\`])(`+)(.+?)(?<!`)\1(?!`)", "CODE", line))
    return "\n".join(kept)


def check_markdown(markdown: str) -> None:
    """No name has changed the structure: HTML only our own tags, folds balanced, no mention, link or broken table."""
    live = outside_code(markdown)
    assert "<" not in ALLOWED_TAGS.sub("", live), [
        line for line in live.splitlines() if "<" in ALLOWED_TAGS.sub("", line)
    ]
    assert live.count("<details>") == live.count("</details>")
    assert not re.search(r"@[A-Za-z0-9]", live)
    assert not re.search(r"(?<!\\)\]\(", live)  # no link: a `]` that would end link text is escaped
    rows: list[int] = []
    for line in [*live.splitlines(), ""]:
        if line.startswith("|"):
            rows.append(len(re.findall(r"(?<!\\)\|", line)))
        else:
            assert len(set(rows)) <= 1, rows
            rows = []


# -- the helpers -------------------------------------------------------------------------------------------------


@FAST
@given(names)
def test_code_span_shows_the_text_literally(text: str) -> None:
    span = code_span(text)
    fence = re.match(r"`+", span).group(0)  # type: ignore[union-attr]
    assert span.endswith(fence) and "\n" not in span and "\r" not in span
    inner = span[len(fence) : -len(fence)]
    assert fence not in re.findall(r"`+", inner)  # no run of the fence's length inside closes it early
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]  # CommonMark strips one space each side
    assert inner == one_line(text) or (text == "" and inner == " ")


@FAST
@given(names)
def test_inline_text_has_no_live_markup(text: str) -> None:
    check_markdown("x " + inline_text(text))
    check_markdown("- " + inline_text(text))
    assert "\n" not in inline_text(text)


@FAST
@given(st.lists(names, min_size=1, max_size=4))
def test_table_cells_keep_the_table(cells: list[str]) -> None:
    table = ["| " + " | ".join(f"h{i}" for i in range(len(cells))) + " |", "|" + "---|" * len(cells)]
    table.append("| " + " | ".join(table_cell(c) for c in cells) + " |")
    table.append("| " + " | ".join(code_span(c, table=True) for c in cells) + " |")
    check_markdown("\n".join(table))


@FAST
@given(names)
def test_html_text_is_inert(text: str) -> None:
    out = html_text(text)
    assert "<" not in out and ">" not in out and "\n" not in out and not re.search(r"@[A-Za-z0-9]", out)


line = st.sampled_from(["text", "x" * 90, "", "- item", "<summary>s</summary>"])
fold = st.lists(line, max_size=30).map(lambda body: ["<details>", "<summary>n</summary>", "", *body, "", "</details>"])
fenced = st.lists(line, max_size=30).map(lambda body: ["```sh", *body, "```"])
documents = st.lists(line.map(lambda x: [x]) | fold | fenced, max_size=30).map(
    lambda parts: [x for p in parts for x in p]
)


@FAST
@given(documents, st.integers(40, 3000))
def test_the_cut_closes_what_it_leaves_open(lines: list[str], limit: int) -> None:
    text = "\n".join(["<!-- impact-report -->", *lines])
    cut = close_open_blocks(text, limit, "\nNOTE")
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
        return
    live = outside_code(cut)
    assert live.count("<details>") == live.count("</details>")
    assert sum(1 for x in cut.splitlines() if x.startswith("```")) % 2 == 0
    assert cut.endswith("NOTE")


# -- the renderers, over graphs whose every name is hostile -----------------------------------------------------------


@st.composite
def hostile_graph(draw: st.DrawFn) -> tuple[DerivationGraph, list[str]]:
    n = draw(st.integers(2, 5))
    drvs: list[Derivation] = []
    for i in range(n):
        name = draw(names)
        drvs.append(
            Derivation(
                path=f"{S}{i:032d}-d{i}.drv",
                name=name,
                system=draw(st.sampled_from(["x86_64-linux", "aarch64-darwin"]) | names),
                outputs={"out": f"{S}{i:031d}o-d{i}"},
                inputs={drvs[-1].path: ("out",)} if drvs else {},
            )
        )
    attrs = [f"{draw(names)}.{i}" for i in range(n)]
    jobs = [
        Job(
            attr=attrs[i],
            system=d.system,
            jobset=draw(st.sampled_from(["nixpkgs", "nixos"]) | names),
            drv_path=d.path,
            name=d.name,
            outputs=dict(d.outputs),
            maintainers=tuple(draw(st.lists(names, max_size=2))),
        )
        for i, d in enumerate(drvs)
    ]
    return DerivationGraph.from_records(drvs, jobs, origin=draw(names)), attrs


@FAST
@given(hostile_graph(), names)
def test_estimate_markdown(graph_attrs: tuple[DerivationGraph, list[str]], command: str) -> None:
    graph, _ = graph_attrs
    graph.meta["label"] = command
    change = resolve_change(graph, drvs=[graph.drv_paths[0]])
    report = build_report(graph, estimate(graph, change), base=None)
    check_markdown(render_estimate(OutputFormat.markdown, report, graph, command=command))


@FAST
@given(hostile_graph(), names)
def test_compare_markdown(graph_attrs: tuple[DerivationGraph, list[str]], command: str) -> None:
    graph, _ = graph_attrs
    changes = [resolve_change(graph, drvs=[graph.drv_paths[k]]) for k in (0, 1)]
    check_markdown(compare_markdown(compare(graph, changes), command=command, snapshot=command))


@FAST
@given(hostile_graph(), names)
def test_pr_markdown(graph_attrs: tuple[DerivationGraph, list[str]], command: str) -> None:
    base, _ = graph_attrs
    drvs = [base.derivation(p) for p in base.drv_paths]
    first = drvs[0]
    changed = Derivation(
        path=first.path.replace("00000000", "99999999", 1),
        name=first.name,
        system=first.system,
        outputs={"out": first.outputs["out"].replace("0", "9", 1)},
    )
    consumers = [
        Derivation(
            path=d.path,
            name=d.name,
            system=d.system,
            outputs={"out": d.outputs["out"].replace("0", "8", 1)},
            inputs={changed.path if k == first.path else k: v for k, v in d.inputs.items()},
        )
        for d in drvs[1:]
    ]
    jobs = [base.job(k) for k in range(base.job_count)]
    head_jobs = [
        dataclasses.replace(j, drv_path=changed.path if j.drv_path == first.path else j.drv_path) for j in jobs
    ]
    head = DerivationGraph.from_records([changed, *consumers], head_jobs, origin="head")
    check_markdown(pr_markdown(pr_report(base, head, command, base_branch="master")))
