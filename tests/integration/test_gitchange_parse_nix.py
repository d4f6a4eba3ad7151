"""`impact.gitchange.syntax` on what real Nix prints: the printed forms the unit tests read
(tests/gitchange_forms.py) are Nix's own, every Nix file of the test fixtures reads to the end, and generated
expressions survive the round trip — comments and layout never change what is read, a changed literal always does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact.gitchange.bindings import diff_file
from impact.gitchange.facts import fingerprint
from impact.gitchange.index import facts_of_text
from impact.gitchange.syntax import parse
from impact.nix import Nix
from tests.conftest import require_nix
from tests.gitchange_forms import FOLDER, FORMS, ROOT

pytestmark = pytest.mark.nix

REPO = Path(__file__).resolve().parents[2]
#: Nix files that must read without a mismatch: the test fixtures and impact's own expressions.
NIX_TREES = [
    REPO / "tests/integration/fixtures_git",
    REPO / "tests/integration/fixtures_nixpkgs",
    REPO / "tests/integration/fixtures_outputs",
    REPO / "tests/integration/fixtures_cost",
    REPO / "impact/nix",
    REPO / "benchmarks",
]


def nix_parse(files: list[Path]) -> list[str]:
    """`nix-instantiate --parse` of each file, one line each (run here, apart from impact's runner)."""
    done = subprocess.run(["nix-instantiate", "--parse", *map(str, files)], capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert len(lines) == len(files)
    return lines


def test_printed_forms_are_nix_own(tmp_path: Path) -> None:
    require_nix()
    files = []
    for i, (source, _) in enumerate(FORMS.values()):
        file = tmp_path / FOLDER / f"f{i}.nix"
        file.parent.mkdir(exist_ok=True)
        file.write_text(source + "\n")
        files.append(file)
    # One process a file: Nix 2.8 prints a function's formals in the order their names were first seen by the
    # process, so a batch prints them differently (test_gitchange_facts.py has the consequence).
    printed = [nix_parse([f])[0].replace(str(tmp_path), ROOT) + "\n" for f in files]
    assert dict(zip(FORMS, printed)) == {name: p for name, (_, p) in FORMS.items()}


def test_every_nix_file_of_the_fixtures_reads_to_the_end() -> None:
    require_nix()
    files = sorted(f for tree in NIX_TREES for f in tree.rglob("*.nix"))
    assert len(files) > 80
    for file, (text, error) in zip(files, Nix().parse_files(files)):
        assert text is not None, (file, error)
        parse(text, str(REPO))  # no SyntaxMismatch
        facts = facts_of_text(text, str(REPO), str(file.relative_to(REPO)))
        assert not any("not read in detail" in why for _, why in facts.dynamic), file


# -- generated expressions ------------------------------------------------------------------------------------

NAMES = ["a", "b", "c"]


def _expressions() -> st.SearchStrategy[list[str]]:
    """Small closed Nix expressions (free variables a, b, c) as lists of tokens."""
    leaf = st.one_of(
        st.integers(0, 99).map(lambda n: [str(n)]),
        st.sampled_from(['"s"', '"t${a}u"', "./x", "true", "null", *NAMES]).map(lambda t: [t]),
    )

    def compound(inner: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
        names = st.lists(st.sampled_from(["n", "m", "k", "or-not"]), min_size=1, max_size=3, unique=True)
        return st.one_of(
            st.lists(inner, max_size=3).map(lambda xs: ["[", *(t for x in xs for t in ["(", *x, ")"]), "]"]),
            st.tuples(names, st.lists(inner, min_size=3, max_size=3)).map(
                lambda p: ["{", *(t for n, v in zip(p[0], p[1]) for t in [n, "=", *v, ";"]), "}"]
            ),
            st.tuples(inner, st.sampled_from(["+", "//", "==", "++", "&&"]), inner).map(
                lambda p: ["(", *p[0], p[1], *p[2], ")"]
            ),
            st.tuples(inner, inner).map(lambda p: ["(", *p[0], ")", "(", *p[1], ")"]),
            st.tuples(inner, inner).map(lambda p: ["(", "let", "v", "=", *p[0], ";", "in", *p[1], ")"]),
            st.tuples(inner, inner, inner).map(lambda p: ["(", "if", *p[0], "then", *p[1], "else", *p[2], ")"]),
            st.tuples(inner, inner).map(lambda p: ["(", "with", *p[0], ";", *p[1], ")"]),
            inner.map(lambda x: ["(", "y", ":", *x, ")"]),
            inner.map(lambda x: ["(", *x, ")", ".", "n", "or", "(", "1", ")"]),
        )

    return st.recursive(leaf, compound, max_leaves=12)


SEPARATORS = st.sampled_from([" ", "  ", "\n", "\n\n  ", " # a comment\n", " /* a comment */ "])


def _render(tokens: list[str], separators: list[str]) -> str:
    return "{ a, b, c }: " + "".join(t + separators[i % len(separators)] for i, t in enumerate(tokens)) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(_expressions(), st.lists(SEPARATORS, min_size=1, max_size=8), st.integers(0, 99))
def test_generated_expressions_round_trip(tmp_path_factory: pytest.TempPathFactory, tokens, separators, new) -> None:
    """Nix's printed form of a generated expression reads to the end; the same expression laid out otherwise, with
    comments, reads the same (fingerprint, binding diff); a changed number reads differently."""
    require_nix()
    root = tmp_path_factory.mktemp("gen")
    plain = _render(tokens, [" "])
    laid_out = _render(tokens, separators)
    numbers = [i for i, t in enumerate(tokens) if t.isdigit() and t != str(new)]
    changed = _render([str(new) if i == numbers[0] else t for i, t in enumerate(tokens)], [" "]) if numbers else None
    files = []
    for name, text in (("plain", plain), ("laid_out", laid_out), ("changed", changed)):
        if text is not None:
            (root / f"{name}.nix").write_text(text)
            files.append(root / f"{name}.nix")
    printed = nix_parse(files)
    nodes = [parse(p, str(root)) for p in printed]
    assert fingerprint(nodes[0]) == fingerprint(nodes[1])
    assert diff_file("f.nix", nodes[0], nodes[1]).units == ()
    if changed is not None:
        assert fingerprint(nodes[0]) != fingerprint(nodes[2])
        assert diff_file("f.nix", nodes[0], nodes[2]).units != ()
