"""Renderers of a report: Markdown (PR comment), changed-paths.json, every --format, golden files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate
from impact.analysis.report import Report, build_report
from impact.model import DerivationGraph
from impact.render.changed_paths import render_changed_paths
from impact.render.formats import OutputFormat, render_estimate, reproduce_command
from impact.render.markdown import MARKER, render_markdown
from tests.branch_graph import branch_graph

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; IMPACT_UPDATE_GOLDEN=1 rewrites it (review the diff before committing)."""
    path = GOLDEN / name
    if os.environ.get("IMPACT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hand() -> tuple[DerivationGraph, Report]:
    graph = branch_graph()
    return graph, build_report(graph, estimate(graph, resolve_change(graph, ["libfoo"])))


def test_changed_paths_golden_by_hand(hand: tuple[DerivationGraph, Report]) -> None:
    # tests/golden/changed_paths_hand.json was written by hand from the graph in tests/branch_graph.py.
    golden("changed_paths_hand.json", render_changed_paths(hand[1]))


def test_markdown_golden_by_hand(hand: tuple[DerivationGraph, Report]) -> None:
    golden("markdown_hand.md", render_markdown(hand[1], command="impact estimate libfoo --format markdown"))


def test_markdown_sections(hand: tuple[DerivationGraph, Report]) -> None:
    text = render_markdown(hand[1], command="impact estimate libfoo --format markdown")
    assert text.startswith(MARKER + "\n")
    assert "```sh\nimpact estimate libfoo --format markdown\n```" in text
    assert "**Branch:** `staging-nixos`" in text and "[rule nixos-tests]" in text
    assert "**Maintainers:** Bob (2 packages), Alice (1 package), Carol (1 package)" in text
    # Lists sorted, Linux platforms first.
    assert (
        text.index("rebuilt on x86_64-linux")
        < text.index("rebuilt on i686-linux")
        < text.index("rebuilt on x86_64-darwin")
    )
    assert "- `app`\n- `libfoo`" in text


@pytest.mark.parametrize("limit", [1_000, 1_100, 1_200, 1_250, 2_000])
def test_markdown_is_cut_to_the_limit_with_a_note(hand: tuple[DerivationGraph, Report], limit: int) -> None:
    full = render_markdown(hand[1], command="x")
    text = render_markdown(hand[1], command="x", limit=limit)
    assert len(text) <= limit
    if len(full) > limit:
        assert f"to fit GitHub's {limit:,}-character limit" in text
        assert text.index("[!WARNING]") < text.index("Reproduce with")
        assert text.count("<details>") == text.count("</details>")
    else:
        assert text == full


def test_markdown_cut_on_a_real_mass_rebuild(embedded_graph: DerivationGraph) -> None:
    report = build_report(embedded_graph, estimate(embedded_graph, resolve_change(embedded_graph, ["openssl"])))
    full = render_markdown(report, command="impact estimate openssl --format markdown", limit=10**9)
    text = render_markdown(report, command="impact estimate openssl --format markdown")
    assert len(full) > 65_536 >= len(text)
    # The warning comes first, and every list still appears (shortened, with the rest counted), never cut midway.
    assert text.startswith(MARKER) and text.index("[!WARNING]") < text.index("Reproduce with")
    summaries = [line for line in full.splitlines() if line.startswith("<summary>")]
    assert summaries and all(line in text for line in summaries)
    assert "more\n\n</details>" in text
    assert text.count("<details>") == text.count("</details>")


def test_real_estimate_goldens(embedded_graph: DerivationGraph) -> None:
    """qemu on the embedded snapshot: 12 nixpkgs jobs and 110 nixos jobs, as Nix gives (README)."""
    report = build_report(embedded_graph, estimate(embedded_graph, resolve_change(embedded_graph, ["qemu"])))
    golden("changed_paths_qemu.json", render_changed_paths(report))
    golden("markdown_qemu.md", render_markdown(report, command="impact estimate qemu --format markdown"))


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_has_a_renderer(fmt: OutputFormat, hand: tuple[DerivationGraph, Report]) -> None:
    graph, report = hand
    text = render_estimate(fmt, report, graph, command="impact estimate libfoo")
    assert text.strip()
    if fmt in (OutputFormat.json, OutputFormat.changed_paths):
        json.loads(text)


def test_reproduce_command_quotes_and_drops_defaults() -> None:
    command = reproduce_command(
        "estimate",
        ["qemu"],
        [("--file", ["a b.nix"]), ("--only", False), ("--base", None), ("--security", True), ("--format", "markdown")],
    )
    assert command == "impact estimate qemu --file 'a b.nix' --security --format markdown"
