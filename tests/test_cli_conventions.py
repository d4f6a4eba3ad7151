"""The command line's conventions: --version, -h, thin commands, one-line errors for conflicting options,
rows that can be told apart, aliases in one rank row, and --plot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from impact import __version__
from impact import app as service
from impact.cli import main

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = str(ROOT / "data" / "nixpkgs-master-2016-06-24.impact")
#: The longest a command function may be, signature and docstring included.
MAX_COMMAND_LINES = 40
#: Commands not yet thin; an entry here that becomes short fails the test, so the list only shrinks (now empty).
NOT_YET_THIN: set[str] = set()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--version", "-V"):
        code, out, _ = run(capsys, flag)
        assert code == 0
        assert out.strip() == f"impact {__version__}"


def test_short_help_is_long_help(capsys: pytest.CaptureFixture[str]) -> None:
    _, short, _ = run(capsys, "estimate", "-h")
    _, long, _ = run(capsys, "estimate", "--help")
    assert short == long
    assert "--own" in short


def _commands() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted((ROOT / "impact" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "command" for d in node.decorator_list
            ):
                found.append((f"{path.name}:{node.name}", node))
    return found


def test_every_command_function_is_short() -> None:
    commands = _commands()
    assert len(commands) >= 12  # estimate, compare, why, outputs, rank, branches, diff, pr, eval, post, snapshot …
    lengths = {name: node.end_lineno - node.lineno + 1 for name, node in commands}  # type: ignore[operator]
    too_long = {name: n for name, n in lengths.items() if n > MAX_COMMAND_LINES}
    assert set(too_long) <= NOT_YET_THIN, f"command functions over {MAX_COMMAND_LINES} lines: {too_long}"
    assert set(too_long) == NOT_YET_THIN, f"now thin, drop from NOT_YET_THIN: {NOT_YET_THIN - set(too_long)}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["estimate", "qemu", "--json", "--format", "markdown"], "--json cannot be used with --format markdown"),
        (
            ["estimate", "qemu", "--cost", "--format", "changed-paths"],
            "--cost cannot be used with --format changed-paths",
        ),
        (["estimate", "qemu", "--cores", "4", "--format", "changed-paths"], "--cost cannot be used with --format"),
        (["estimate", "qemu", "--blast", "--format", "markdown"], "--blast cannot be used with --format markdown"),
        (["estimate", "curl", "--only-output", "man", "--format", "changed-paths"], "--only-output cannot be used"),
        (["estimate", "qemu", "--security", "--format", "changed-paths"], "--security cannot be used with --format"),
        (
            ["compare", "qemu", "hello", "--json", "--format", "markdown"],
            "--json cannot be used with --format markdown",
        ),
        (["compare", "qemu", "hello", "--no-cost", "--machines", "4"], "--no-cost cannot be used with --machines"),
        (["why", "hello", "--change", "zlib", "--limit", "3"], "--limit cannot be used with one chain"),
        (["rank", "--json", "--limit", "3"], "--limit cannot be used with --json"),
        (["branches", SNAPSHOT, SNAPSHOT, "--json", "--limit", "3"], "--limit cannot be used with --json"),
        (["estimate", "hello", "--plot", "out.gif"], "unknown image type 'gif'"),
    ],
)
def test_conflicting_options_stop_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv, "--snapshot", SNAPSHOT) if argv[0] != "branches" else run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert message in err


def test_estimate_rows_name_their_attribute_and_differ(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "estimate", "openssl", "--snapshot", SNAPSHOT)
    rows = [line.split() for line in out.split("Roots:")[1].split("\n\n")[0].splitlines()[2:]]
    assert rows
    assert len({tuple(r) for r in rows}) == len(rows), "two roots print the same row"
    named = [r for r in rows if r[0] == "named"]
    assert named and all(r[1].startswith("openssl") for r in named)


def test_outputs_blocks_differ(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "outputs", "systemd", "--snapshot", SNAPSHOT)
    headers = [line for line in out.splitlines() if "  drv " in line]
    assert len(headers) > 1
    assert len(set(headers)) == len(headers)


def test_rank_has_one_row_per_derivation() -> None:
    """No two of the top rows share a derivation: aliases (perl522 = perl) are listed on one row."""
    answer = service.rank(service.RankRequest())
    graph = answer.graph
    rows = answer.ranking.rows[:25]
    seen: dict[int, str] = {}
    for row in rows:
        for name in (row.package, *row.aliases):
            for (jobset, _attr), k in graph.job_index.items():
                if jobset == "nixpkgs" and graph.job_packages[k] == name:
                    drv = int(graph.job_drv[k])
                    assert seen.setdefault(drv, row.package) == row.package, f"{name} repeats {seen[drv]}"


def test_rank_groups_known_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    ranking = service.rank(service.RankRequest(snapshot=Path(SNAPSHOT))).ranking
    by_package = {r.package: r for r in ranking.rows}
    assert "perl522" in by_package["perl"].aliases
    assert {"bison3", "yacc"} <= set(by_package["bison"].aliases)
    assert not {"perl522", "yacc", "bison3"} & set(by_package)
    _, out, _ = run(capsys, "rank", "--limit", "5", "--snapshot", SNAPSHOT)
    assert "perl (perl522)" in out


def test_own_leaves_out_the_every_commit_share(capsys: pytest.CaptureFixture[str]) -> None:
    request = service.EstimateRequest(service.ChangeRequest(("hello",)), snapshot=Path(SNAPSHOT))
    full = service.estimate(request).report.estimate
    own = service.estimate(
        service.EstimateRequest(service.ChangeRequest(("hello",), own=True), snapshot=Path(SNAPSHOT))
    ).report.estimate
    assert full.every_commit_derivations > 0
    assert own.every_commit_derivations == 0
    assert own.derivations_to_build == full.derivations_to_build - full.every_commit_derivations
    _, out, _ = run(capsys, "estimate", "hello", "--own", "--snapshot", SNAPSHOT)
    assert "change on every commit" not in out and "Own share (--own)" in out


@pytest.mark.parametrize(
    ("argv", "suffix", "magic"),
    [
        (["estimate", "qemu"], "png", b"\x89PNG"),
        (["compare", "qemu", "linux_4_4", "--no-cost"], "svg", b"<?xml"),
        (["rank", "--limit", "10"], "png", b"\x89PNG"),
    ],
)
def test_plot_writes_the_image(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], suffix: str, magic: bytes
) -> None:
    target = tmp_path / f"plot.{suffix}"
    code, out, err = run(capsys, *argv, "--plot", str(target), "--snapshot", SNAPSHOT)
    assert code == 0 and out
    assert target.read_bytes().startswith(magic)
    assert err == f"wrote {target}\n"  # said on standard error, not silently


@pytest.mark.parametrize("argv", [["estimate", "qemu"], ["compare", "qemu", "linux_4_4", "--no-cost"], ["rank"]])
def test_plot_keeps_standard_output_the_json_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    import json

    target = tmp_path / "plot.png"
    code, out, err = run(capsys, *argv, "--json", "--plot", str(target), "--snapshot", SNAPSHOT)
    assert code == 0 and isinstance(json.loads(out), dict)
    assert err == f"wrote {target}\n" and target.stat().st_size > 5_000


def test_one_library_call_serves_cli_and_api(capsys: pytest.CaptureFixture[str]) -> None:
    from impact import api

    graph = api.load(SNAPSHOT)
    via_api = api.estimate(graph, "qemu")
    _, out, _ = run(capsys, "estimate", "qemu", "--json", "--snapshot", SNAPSHOT)
    import json

    assert json.loads(out)["derivations_to_build"] == via_api.derivations_to_build


def test_tables_are_rich_on_a_terminal_and_plain_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import sys

    from impact.cli._app import styled
    from impact.render.text import styled_tables, table

    rows = [["nixpkgs jobs", 1234, None], ["  NixOS VM tests", 5, 6]]
    plain = table(rows, ["", "x86_64-linux", "total"])
    with styled_tables():
        drawn = table(rows, ["", "x86_64-linux", "total"])
    assert "\x1b[" not in plain and "\x1b[" in drawn

    def cells(text: str) -> list[str]:
        return re.sub(r"\x1b\[[0-9;]*m|[─\s]+", " ", text).split()

    assert cells(drawn) == cells(plain)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert styled()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not styled()
