"""`impact compare` rendered: every --format, the Markdown body by hand, on Nix's own cases, and the golden file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.compare import Comparison, compare
from impact.model import DerivationGraph
from impact.render.compare import CompareFormat, compare_markdown, render_compare
from impact.render.markdown import MARKER
from tests.branch_graph import branch_graph
from tests.conftest import CASES, require_shared
from tests.test_render_report import golden


@pytest.fixture(scope="module")
def hand() -> tuple[DerivationGraph, Comparison]:
    graph = branch_graph()
    return graph, compare(graph, [resolve_change(graph, [n]) for n in ("libfoo", "app")])


@pytest.mark.parametrize("fmt", list(CompareFormat))
def test_every_compare_format_has_a_renderer(fmt: CompareFormat, hand: tuple[DerivationGraph, Comparison]) -> None:
    graph, comparison = hand
    text = render_compare(fmt, comparison, graph, command="impact compare libfoo app")
    assert "libfoo" in text and "app" in text
    if fmt is CompareFormat.json:
        assert [c["name"] for c in json.loads(text)["changes"]] == ["libfoo", "app"]


def test_markdown_by_hand(hand: tuple[DerivationGraph, Comparison]) -> None:
    # tests/branch_graph.py: libfoo rebuilds libfoo ×3, app, stdenv, tarball and the VM test (7 derivations:
    # x86_64-linux 4, i686-linux 1, x86_64-darwin 2); app rebuilds app and the VM test (2, x86_64-linux).
    graph, comparison = hand
    text = compare_markdown(comparison, command="impact compare libfoo app --format markdown", snapshot=graph.label)
    assert text.startswith(MARKER + "\n## impact compare: `libfoo` · `app`\n")
    assert "```sh\nimpact compare libfoo app --format markdown\n```" in text
    table = """\
|  | `libfoo` | `app` |
| --- | ---: | ---: |
| nixpkgs jobs | 6 | 1 |
|   `x86_64-linux` | 3 | 1 |
|   `i686-linux` | 1 | – |
|   `x86_64-darwin` | 2 | – |
| nixos jobs | 1 | 1 |
|   `x86_64-linux` | 1 | 1 |
|   NixOS VM tests | 1 | 1 |
| **derivations to build** | **7** | **2** |
|   `x86_64-linux` | 4 | 2 |
|   `i686-linux` | 1 | – |
|   `x86_64-darwin` | 2 | – |
| packages rebuilt, linux | 2 | 1 |
| packages rebuilt, darwin | 2 | 0 |
"""
    assert table in text
    assert "| **branch** | **`staging-nixos`** | **`staging-nixos`** |" in text
    assert (
        "| only this change: nixpkgs jobs | 5 | 0 |\n| only this change: nixos jobs | 0 | 0 |\n| only this change: derivations | 5 | 0 |"
        in text
    )
    assert "Rebuilt by every change: nixpkgs 1 job, nixos 1 job, 2 derivations." in text
    assert text.count("[rule nixos-tests]") == 2
    only = "<summary>5 jobs of the nixpkgs jobset only libfoo rebuilds</summary>\n\n- `libfoo.i686-linux`\n- `libfoo.x86_64-darwin`\n"
    assert only + "- `libfoo.x86_64-linux`\n- `stdenv.x86_64-darwin`\n- `tarball`\n\n</details>\n" in text
    assert text.count("<details>") == 1 and "Cost" not in text


def test_markdown_sections_come_before_the_lists(hand: tuple[DerivationGraph, Comparison]) -> None:
    text = compare_markdown(hand[1], command="x", sections=["### Cost of the rebuilds\n\nsome table\n"])
    assert text.index("### Branch") < text.index("### Cost of the rebuilds") < text.index("<details>")


@pytest.mark.parametrize("limit", [1_800, 2_000, 2_100, 2_200, 3_000])
def test_markdown_is_cut_to_the_limit_with_a_note(hand: tuple[DerivationGraph, Comparison], limit: int) -> None:
    full = compare_markdown(hand[1], command="x")
    text = compare_markdown(hand[1], command="x", limit=limit)
    assert len(text) <= limit
    if len(full) > limit:
        assert f"cut to GitHub's {limit:,}-character limit" in text
        assert text.count("<details>") == text.count("</details>")
    else:
        assert text == full


def _case(name: str) -> dict:
    return json.loads((require_shared(CASES) / f"{name}.json").read_text())


def test_markdown_on_nix_cases(embedded_graph: DerivationGraph) -> None:
    """curl (a mass rebuild) against hello, each from its roots; expectations from the jobs Nix itself changed."""
    curl, hello = _case("curl"), _case("hello")
    comparison = compare(embedded_graph, [resolve_change(embedded_graph, drvs=c["roots"]) for c in (curl, hello)])
    text = compare_markdown(comparison, command="impact compare curl hello --format markdown")
    changed = {
        name: {js: set(e["changed"]) for js, e in c["expected"].items()}
        for name, c in (("curl", curl), ("hello", hello))
    }
    listed = 0
    for js in ("nixpkgs", "nixos"):
        cells = [f"{len(changed[n][js]):,}" for n in ("curl", "hello")]
        assert f"| {js} jobs | {cells[0]} | {cells[1]} |" in text
        only = {n: changed[n][js] - changed[o][js] for n, o in (("curl", "hello"), ("hello", "curl"))}
        assert f"| only this change: {js} jobs | {len(only['curl']):,} | {len(only['hello']):,} |" in text
        listed += bool(only["hello"])
        if only["hello"]:
            # Shortest list first: hello's few jobs are listed whole although curl's thousands are cut.
            n, name = len(only["hello"]), comparison.changes[1].name
            summary = f"<summary>{n} job{'s' * (n != 1)} of the {js} jobset only {name} rebuilds</summary>"
            assert summary + "\n\n" + "".join(f"- `{a}`\n" for a in sorted(only["hello"])) + "\n</details>" in text
    assert listed
    cells = [f"{c['hydra_derivations_to_build']:,}" for c in (curl, hello)]
    assert f"| **derivations to build** | **{cells[0]}** | **{cells[1]}** |" in text
    assert 60_000 < len(text) <= 65_536 and "cut to GitHub's 65,536-character limit" in text
    assert text.count("<details>") == text.count("</details>")


def test_golden_qemu_linux_4_4(embedded_graph: DerivationGraph) -> None:
    """The seed question on the embedded snapshot; the numbers below are Nix's, checked apart from the golden."""
    comparison = compare(embedded_graph, [resolve_change(embedded_graph, [n]) for n in ("qemu", "linux_4_4")])
    text = compare_markdown(
        comparison, command="impact compare qemu linux_4_4 --no-cost --format markdown", snapshot=embedded_graph.label
    )
    # qemu changes 12 nixpkgs jobs and 110 nixos jobs, as Nix gives (README); the kernel is linux 4.4.
    assert "| nixpkgs jobs | 12 |" in text and "| nixos jobs | 110 |" in text
    assert "changes the Linux kernel (linux-4.4." in text
    lists = [
        block.split("</summary>")[1].split("</details>")[0].split("\n- ")[1:] for block in text.split("<summary>")[1:]
    ]
    assert lists and all(items == sorted(items) for items in lists)
    assert "`qemu.x86_64-linux`" in text and "`linux.x86_64-linux`" in text
    golden("compare_qemu_linux_4_4.md", text)


def test_golden_is_what_the_cli_prints(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from impact.cli import main
    from impact.snapshots import SNAPSHOT_ENV
    from tests.conftest import MASTER_2016

    monkeypatch.setenv(SNAPSHOT_ENV, MASTER_2016)
    assert main(["compare", "qemu", "linux_4_4", "--no-cost", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == (Path(__file__).parent / "golden" / "compare_qemu_linux_4_4.md").read_text(
        encoding="utf-8"
    )
