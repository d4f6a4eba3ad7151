"""Every command README.md and docs/*.md show runs here, and its output must be what the page prints.

One mechanism for every page: Sybil (PyPI `sybil`) finds the fenced blocks of each page, and this module
evaluates them. The page convention (docs/README's "Documentation" section says the same):

- ```console: a transcript. Each `$ ` line is a command (a line ending in `\\` continues it), the lines up to the
  next `$ ` are its exact output, stdout and stderr together as a terminal shows them. A line `…` alone stands
  for any number of lines (an excerpt); everything else is compared line by line. The command must exit 0, or
  2 when the output shown is the one-line `impact: error: …`.
- ```sh: commands shown without their output; each line runs and must exit 0.
- ```python: runs (Sybil's own Python evaluator), in one namespace per page.
- Any other fence (```text, ```json, ```toml, ```markdown) is not a command, and every fence must say what it
  is, so no command hides in an untagged block (`test_every_fence_says_what_it_is`).

Commands run with bash, one new shell each, in a folder per page that holds links to the checkout's top-level
entries (so `tests/…` and `data/…` resolve, and whatever a command writes lands in the temporary folder), with
this environment's `impact` first on PATH, NO_COLOR set, and a temporary cache (XDG_CACHE_HOME), so the user's
cache is untouched. Blocks of a page run in page order; a block's test first runs the blocks above it.

Output that varies between runs is normalized by the rules in `NORMALIZE`, each narrow and named, on both
the page's text and the command's. Commands that cannot run here are in `EXCLUDED`, each with why.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser

from tests.conftest import REPO, require_nix

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

#: Commands shown that this test does not run, with why. Keyed by the command as the page shows it (without
#: `$ ` and without a trailing `  # comment`); `test_excluded_commands_are_still_shown` keeps the list honest.
EXCLUDED: dict[str, str] = {
    "python3 -m venv .venv && .venv/bin/pip install -e .": (
        "installs from PyPI into a new environment (minutes, network); tests/test_notebooks.py::test_fresh_clone "
        "does the same install from a fresh clone"
    ),
    ". .venv/bin/activate": "activates the environment this test already runs in",
    "scripts/test": "the whole test suite, this test included; CI runs it (.ci/run)",
    "pip install -e '.[notebooks,test]'": "installs from PyPI (network); scripts/test installs the same extras",
    "jupyter lab notebooks/": "starts an interactive server; tests/test_notebooks.py runs the notebooks headless",
    "python -m pytest tests/test_notebooks.py -m 'not clone'": "a part of the suite this test is in",
    "impact eval ./nixpkgs -o snap-head --system x86_64-linux --system aarch64-darwin --nixos": (
        "a whole nixpkgs checkout: 20+ minutes and 10-14 GB; README's own-checkout section runs the same command "
        "on the fixture tree"
    ),
    "impact pr origin/master HEAD --repo ./nixpkgs -o report/ --nixos": (
        "two whole nixpkgs evaluations (20+ minutes each); README's own-checkout section runs `impact pr` on the "
        "fixture tree"
    ),
    "GITHUB_TOKEN=… impact post --pr 12345 --repo NixOS/nixpkgs --report report/": (
        "posts to GitHub; tests/test_github.py and tests/test_bot_http.py post to a fake GitHub on 127.0.0.1"
    ),
    "impact pr ev-8fce8a93 ev-12efcc2d --system x86_64-linux --system x86_64-darwin --system aarch64-linux --nixos": (
        "the comment's own reproduce line: two whole 2019 evaluations (20 minutes, 11 GB each) that are not shipped"
    ),
    (
        "impact eval tree-8fce8a93 -o OUT --system x86_64-linux --system x86_64-darwin --system aarch64-linux "
        "--nixos --skip darwin-tested --skip tarball --skip metrics --skip 'manual*' --skip lib-tests --skip unstable "
        "--skip channel --skip manpages --skip options --skip iso_graphical --skip ova --skip tested --memory 12G "
        "--timeout 5400 --chunks 4 --jobs 1 --explain-errors 4"
    ): "the whole 2019 nixpkgs evaluation that page measures: 25 minutes, 10.8 GB, and a 2019 nixpkgs tree",
}

#: Rules that make varying output comparable, applied to the page's text and to the command's output alike.
NORMALIZE: list[tuple[str, re.Pattern[str], str]] = [
    # `impact eval`'s summary: wall times, peak memory and what the store collection freed vary run to run.
    (
        "eval wall time",
        re.compile(r"\b(in|one job a process:|all jobs:|chunk \d+/\d+:) \d[\d,]*(\.\d+)? s\b"),
        r"\1 N s",
    ),
    ("eval peak memory", re.compile(r"\bpeak \d[\d,]* MiB\b"), "peak N MiB"),
    ("store collection", re.compile(r"\b\d[\d,]*(\.\d+)? MiB freed\b"), "N MiB freed"),
]

ELLIPSIS = "…"


def normalize(text: str) -> str:
    """`text` with every `NORMALIZE` rule applied and trailing spaces dropped (Markdown editors drop them)."""
    for _name, pattern, replacement in NORMALIZE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")  # a blank line may end an output


def matches(expected: str, actual: str) -> bool:
    """True when `actual` is `expected`, a line `…` in `expected` standing for any number of lines."""
    parts = []
    for line in expected.splitlines():
        parts.append(r"(?:[^\n]*\n)*?" if line == ELLIPSIS else re.escape(line) + r"\n")
    return re.fullmatch("".join(parts), actual + "\n" if actual else "") is not None


def split_commands(source: str, prompt: str) -> list[tuple[str, list[str]]]:
    """(command, output lines) of a block; with `prompt` ("$ "), lines without it are the previous command's
    output; without, every line is a command. A line ending in a backslash continues the command."""
    steps: list[tuple[str, list[str]]] = []
    continued = False
    for line in source.splitlines():
        if continued:
            command, output = steps[-1]
            steps[-1] = (command + "\n" + line, output)
        elif prompt and line.startswith(prompt):
            steps.append((line[len(prompt) :], []))
        elif prompt:
            if not steps:
                raise AssertionError(f"a console block must start with a `{prompt}` line, not {line!r}")
            steps[-1][1].append(line)
            continue
        elif line.strip() and not line.lstrip().startswith("#"):
            steps.append((line, []))
        else:
            continue
        continued = line.endswith("\\")
    return steps


def shown(command: str) -> str:
    """The command as `EXCLUDED` names it: on one line, without a trailing `  # comment`."""
    return re.sub(r"\s{2,}#\s.*$", "", re.sub(r"\\\n\s*", "", command)).strip()


@dataclass
class Shell:
    """Where and how a page's commands run."""

    cwd: Path
    env: dict[str, str]
    ran: list[str] = field(default_factory=list)

    def run(self, command: str) -> tuple[int, str]:
        """Runs `command` with bash in a new shell: its exit status and its output (stdout and stderr)."""
        if re.match(r"\s*(cd|export)\s", command):
            raise AssertionError(f"`{command}`: each command runs in a new shell; use paths, not cd or export")
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )
        self.ran.append(command)
        return done.returncode, done.stdout


def _shell(example: Example) -> Shell:
    shell = example.namespace.get("shell")
    assert isinstance(shell, Shell), "the page's shell is set up by page_run()"
    return shell


def _where(example: Example) -> str:
    return f"{Path(example.path).relative_to(REPO)}:{example.line}"


def evaluate_console(example: Example) -> str | None:
    """Runs each `$ ` command of a console block and compares its output with the page's.

    With IMPACT_UPDATE_DOCS=1 a command's output that differs is written into the page instead (not where the
    page shows an excerpt with `…`): regenerate after a deliberate change, and read the diff before committing.
    """
    shell = _shell(example)
    source = str(example.parsed)
    rewritten = []
    for command, output in split_commands(source, "$ "):
        rewritten += ["$ " + command, *output]
        if shown(command) in EXCLUDED:
            continue
        code, actual = shell.run(command)
        expected = normalize("\n".join(output))
        lines = expected.splitlines()
        want = 2 if lines and lines[-1].startswith("impact: error:") else 0
        if code != want:
            return f"{_where(example)}: `{command}` exited {code}, expected {want}:\n{actual}"
        if matches(expected, normalize(actual)):
            continue
        if os.environ.get("IMPACT_UPDATE_DOCS") and ELLIPSIS not in lines:
            blank = [""] if output and not output[-1].strip() else []
            rewritten[len(rewritten) - len(output) :] = [*actual.rstrip("\n").splitlines(), *blank]
            continue
        diff = "\n".join(difflib.unified_diff(lines, normalize(actual).splitlines(), "page", "command", lineterm=""))
        return f"{_where(example)}: `{command}` printed something else than the page shows:\n{diff}"
    new = "\n".join(rewritten) + "\n"
    if new != source and os.environ.get("IMPACT_UPDATE_DOCS"):
        page = Path(example.path)
        page.write_text(page.read_text().replace(source, new, 1))
    return None


def evaluate_sh(example: Example) -> str | None:
    """Runs each command of a sh block; each must exit 0."""
    shell = _shell(example)
    for command, _ in split_commands(str(example.parsed), ""):
        if shown(command) in EXCLUDED:
            continue
        code, actual = shell.run(command)
        if code != 0:
            return f"{_where(example)}: `{command}` exited {code}:\n{actual[-3000:]}"
    return None


SYBIL = Sybil(
    parsers=[
        CodeBlockParser("console", evaluate_console),
        CodeBlockParser("sh", evaluate_sh),
        PythonCodeBlockParser(),
    ]
)

#: Sections whose commands need real Nix (`impact eval`): marked `nix`, so they skip only where Nix is
#: absent and IMPACT_REQUIRE_NIX is unset.
NIX_SECTIONS = {("README.md", "On your own nixpkgs checkout")}


def _section(text: str, line: int) -> str:
    """The level-2 heading (`## `) above `line` (1-based): a section, its subsections included."""
    for previous in reversed(text.splitlines()[: line - 1]):
        if previous.startswith("## "):
            return previous[3:].strip()
    return ""


def _examples() -> list[Any]:
    params = []
    for page in PAGES:
        document = SYBIL.parse(page)
        text = page.read_text()
        for index, example in enumerate(document):
            name = page.relative_to(REPO).as_posix()
            nix = (page.name, _section(text, example.line)) in NIX_SECTIONS
            params.append(
                pytest.param(page, index, id=f"{name}:{example.line}", marks=[pytest.mark.nix] if nix else [])
            )
    return params


@dataclass
class PageRun:
    """A page's examples, evaluated in order once each; the outcome of each kept for its test."""

    document: Document
    examples: list[Example]
    outcomes: dict[int, BaseException | None] = field(default_factory=dict)

    def through(self, index: int) -> None:
        """Evaluates the examples up to `index`, those not yet run, in page order; re-raises `index`'s failure."""
        for i in range(index + 1):
            if i not in self.outcomes:
                try:
                    self.examples[i].evaluate()
                    self.outcomes[i] = None
                except BaseException as error:  # kept for the example's own test (skips too)
                    self.outcomes[i] = error
        failure = self.outcomes[index]
        if failure is not None:
            raise failure


@pytest.fixture(scope="session")
def page_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], PageRun]:
    """The run of a page, made once a session: a work folder linking the checkout's top-level entries."""
    runs: dict[Path, PageRun] = {}
    cache = tmp_path_factory.mktemp("docs-cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMPACT_", "PYTHON", "FORCE_COLOR"))}
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
        XDG_CACHE_HOME=str(cache),
    )

    def get(page: Path) -> PageRun:
        if page not in runs:
            work = tmp_path_factory.mktemp(page.stem)
            for entry in REPO.iterdir():
                if entry.name not in {".git", ".venv"}:
                    (work / entry.name).symlink_to(entry)
            document = SYBIL.parse(page)
            document.namespace["shell"] = Shell(work, env)
            runs[page] = PageRun(document, list(document))
        return runs[page]

    return get


@pytest.mark.parametrize(("page", "index"), _examples())
def test_block(page: Path, index: int, page_run: Callable[[Path], PageRun], request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("nix"):
        require_nix()
    run = page_run(page)
    cwd = os.getcwd()
    os.chdir(run.document.namespace["shell"].cwd)  # the Python blocks run where the commands run
    try:
        run.through(index)
    finally:
        os.chdir(cwd)


#: Figures quoted in prose, each with the snapshot it names: (page, the text as the page says it, a command,
#: what its output must contain). Checked by `test_figures_quoted_in_prose`.
FIGURES: list[tuple[str, str, str, list[str]]] = [
    (
        "README.md",
        "on master-2019-03-19, editing curl changes 27,693 of 50,077 nixpkgs jobs",
        "impact estimate curl",
        ["27,693 of 50,077", "derivations to build", " 37,139\n", "182 more derivations get new output paths"],
    ),
    (
        "README.md",
        "editing curl gives 37,321 derivations new output paths and 37,139 to build; the 182 others",
        "impact estimate curl --json | grep -o '\"derivations_with_new_output_paths\": [0-9]*'",
        ['"derivations_with_new_output_paths": 37321'],
    ),
    (
        "README.md",
        "gives the 12 nixpkgs jobs, 110 nixos jobs and\n563 derivations impact computes",
        "impact estimate qemu --snapshot master-2016-06-24",
        ["  12 of 15,103", "  110 of 118", " 563\n"],
    ),
    (
        "docs/why-and-outputs.md",
        "perl's 7,889 direct dependents on master-2019-03-19",
        "impact estimate perl --blast",
        ["Blast radius: 7,889 direct dependents"],
    ),
    (
        "docs/cost.md",
        "On master-2016-06-24 (`--snapshot master-2016-06-24`) the same farm takes 4.0 h for qemu's 563 derivations\n"
        "(31.7 CPU-hours)",
        "impact estimate qemu --machines 2 --cores 4 --snapshot master-2016-06-24",
        ["  31.7 h\n", "farm time     4.0 h  on 2 ×", "of 563 derivations"],
    ),
    (
        "docs/pr-bot.md",
        "staging 2016-06-20 → master 2016-06-24, 15,005 nixpkgs and 118 nixos\njobs changed, 86 added, 2 removed",
        "impact diff data/nixpkgs-staging-2016-06-20.impact data/nixpkgs-master-2016-06-24.impact",
        ["15,005 of 15,103", "  86\n", "  2\n", "118 of 118", "27,238", "13 more derivations", "Root changes: 493"],
    ),
]


@pytest.mark.parametrize(("page", "said", "command", "printed"), FIGURES, ids=[f[0] for f in FIGURES])
def test_figures_quoted_in_prose(
    page: str, said: str, command: str, printed: list[str], page_run: Callable[[Path], PageRun]
) -> None:
    """A figure the prose quotes is still on the page, and still what the command prints on that snapshot."""
    assert said in (REPO / page).read_text(), f"{page} no longer says {said!r}: update FIGURES with the page"
    code, output = page_run(REPO / page).document.namespace["shell"].run(command)
    assert code == 0, output
    missing = [p for p in printed if p not in output]
    assert not missing, f"{page}: `{command}` no longer prints {missing}:\n{output[-3000:]}"


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
NOT_COMMANDS = {"text", "json", "toml", "markdown"}


def _fences(text: str) -> list[tuple[int, str, list[str]]]:
    """(line, info, body lines) of each top-level fenced block of a Markdown text."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            fence, info = m.group(2), m.group(3).strip()
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not (
                lines[i].strip().startswith(fence) and not lines[i].strip()[len(fence) :].strip()
            ):
                body.append(lines[i])
                i += 1
            found.append((start, info, body))
        i += 1
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_fence_says_what_it_is(page: Path) -> None:
    """A fence is a command block (console, sh, python) or says it is not one; a `$ ` line is in a console block."""
    for line, info, body in _fences(page.read_text()):
        assert info in {"console", "sh", "python"} | NOT_COMMANDS, f"{page.name}:{line}: fence ```{info}"
        if info in NOT_COMMANDS:
            assert not any(b.startswith("$ ") for b in body), f"{page.name}:{line}: a `$ ` line outside ```console"


def test_excluded_commands_are_still_shown() -> None:
    """Every EXCLUDED command is still on a page (else the entry goes), with its reason."""
    commands = set()
    for page in PAGES:
        for _line, info, body in _fences(page.read_text()):
            if info in {"console", "sh"}:
                commands |= {shown(c) for c, _ in split_commands("\n".join(body), "$ " if info == "console" else "")}
    missing = sorted(set(EXCLUDED) - commands)
    assert not missing, f"EXCLUDED names commands no page shows: {missing}"
    assert all(len(why) > 20 for why in EXCLUDED.values())


def test_the_matcher_and_the_normalizer() -> None:
    """The rules the comparison rests on, each able to fail."""
    assert matches("a\nb", "a\nb") and not matches("a\nb", "a\nc") and not matches("a", "a\nb")
    assert matches("a\n…\nd", "a\nb\nc\nd") and matches("a\n…\nd", "a\nd") and not matches("a\n…\nd", "a\nb")
    assert matches("", "") and not matches("", "x")
    assert (
        normalize("wrote x: 1 jobs in 12 s\n  all jobs: 3 s, peak 26 MiB  ")
        == "wrote x: 1 jobs in N s\n  all jobs: N s, peak N MiB"
    )
    assert normalize("qemu 32.2 h") == "qemu 32.2 h"  # cost figures are compared as printed
    assert split_commands("$ a \\\n  b\nout\n$ c", "$ ") == [("a \\\n  b", ["out"]), ("c", [])]
    assert split_commands("x   # why\n# note\n\ny", "") == [("x   # why", []), ("y", [])]
    assert shown("impact estimate qemu   # the main job") == "impact estimate qemu"
    with pytest.raises(AssertionError):
        split_commands("output first", "$ ")


def test_sybil_finds_every_command_block() -> None:
    """Sybil and this module's own fence reader agree on which blocks are commands (none is missed)."""
    for page in PAGES:
        ours = [line for line, info, _ in _fences(page.read_text()) if info in {"console", "sh", "python"}]
        theirs = [e.line for e in SYBIL.parse(page)]
        assert ours == theirs, page.name


def _table(text: str) -> dict[tuple[str, str], list[int]]:
    """The PR comment's headline table: (jobset, row label) → the row's numbers, one per system and the total."""
    rows = {}
    jobset = ""
    for line in text[text.index("### Rebuilds") : text.index("**derivations to build**")].splitlines():
        if line.startswith("| ") and not line.startswith(("|  |", "| ---")):
            label, *cells = (c.strip().replace("*", "") for c in line.strip("|").split("|"))
            jobset = label.split()[0] if label.endswith(" jobs changed") else jobset
            rows[(jobset, label)] = [int(c.replace(",", "").split()[0]) if c != "–" else 0 for c in cells]
    return rows


def _items(text: str, title: str) -> list[str]:
    """The bullet items of the list under the bold `title`, the folded ones included."""
    start = text.index(f"**{title}")
    end = text.index("\n**", start + 1)
    return re.findall(r"^- (.+)$", text[start:end], re.M)


def test_the_2019_example_comment_adds_up() -> None:
    """docs/example-pr-2019.md was redrawn by hand in parts (see its opening note): its table, warning and lists
    must agree with each other, every column adding up."""
    text = (REPO / "docs" / "example-pr-2019.md").read_text()
    rows = _table(text)
    changed, rebuilt = rows[("nixpkgs", "nixpkgs jobs changed")], rows[("nixpkgs", "of which rebuilt")]
    repointed = rows[("nixpkgs", "of which re-pointed (already built)")]
    assert [r + p for r, p in zip(rebuilt, repointed)] == changed == [242, 140, 0, 3, 385]
    removed, failing = rows[("nixpkgs", "nixpkgs jobs removed")], rows[("nixpkgs", "of which no longer evaluate")]
    gone = rows[("nixpkgs", "of which gone without an evaluation error")]
    assert [f + g for f, g in zip(failing, gone)] == removed == [30, 10, 0, 0, 40]
    every = rows[("nixos", "of which change on every commit")]
    assert [a + b for a, b in zip(rows[("nixos", "of which rebuilt")], every)] == rows[("nixos", "nixos jobs changed")]
    broken = [re.sub(r" \(1 job in the base\).*", "", i) for i in _items(text, "30 attributes evaluated in the base")]
    assert "30 attributes (30 jobs in the base) no longer evaluate" in text and len(broken) == failing[-1]
    assert _items(text, "30 jobs removed that no longer evaluate") == broken
    jool = _items(text, "10 jobs removed without an evaluation error")
    assert len(jool) == gone[-1] and all(".jool." in i for i in jool)
    assert f"{gone[-1]} jobs of the base are gone without an evaluation error" in text
    assert len(_items(text, "127 jobs re-pointed")) == repointed[-1]
    assert len(_items(text, "2 jobs that change on every commit")) == every[-1]
