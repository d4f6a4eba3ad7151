"""`impact.gitchange.syntax`: the text `nix-instantiate --parse` prints, read into `Node`s (tests/gitchange_forms.py
holds Nix's own printed forms; tests/integration/test_gitchange_parse_nix.py checks them against real Nix)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impact.gitchange.syntax import Node, SyntaxMismatch, parse, tokens, unquote
from tests.gitchange_forms import FORMS, ROOT, printed


def read(name: str) -> Node:
    return parse(printed(name), ROOT)


def binding(node: Node, name: str) -> Node:
    (value,) = [v for n, v, _ in node.bindings if n == name]
    return value


def body(node: Node) -> Node:
    """The body under the file's lambdas."""
    while node.kind == "lambda":
        node = node.children[0]
    return node


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_printed_form_parses_to_the_end(name: str) -> None:
    node = read(name)
    assert isinstance(node, Node)


# -- tokens ---------------------------------------------------------------------------------------------------


def test_dynamic_attribute_name_tokens() -> None:
    assert tokens('{ "${(x)}" = 1; }') == [
        ("op", "{"),
        ("dynamic", '"${'),
        ("op", "("),
        ("id", "x"),
        ("op", ")"),
        ("dynend", '}"'),
        ("op", "="),
        ("number", "1"),
        ("op", ";"),
        ("op", "}"),
    ]


def test_update_operator_is_never_a_path() -> None:
    assert tokens("(a // b)") == [("op", "("), ("id", "a"), ("op", "//"), ("id", "b"), ("op", ")")]
    assert tokens("(/ + /r/x)") == [("op", "("), ("path", "/"), ("op", "+"), ("path", "/r/x"), ("op", ")")]


def test_escaped_dollar_stays_inside_its_string() -> None:
    assert tokens('"\\$\\${x}"') == [("string", '"\\$\\${x}"')]
    assert unquote('"\\$\\${x}"') == "$${x}"
    assert unquote('"a\\"b\\\\c\\n\\t"') == 'a"b\\c\n\t'


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("# a comment", "unexpected character"),
        ("{ a = 1; }}", "unbalanced"),
        ("{ a = 1;", "unbalanced"),
        ('{ "${x} = 1; }', "not closed"),
        ("`", "unexpected character"),
    ],
)
def test_tokens_outside_the_printed_grammar(text: str, why: str) -> None:
    with pytest.raises(SyntaxMismatch, match=why):
        tokens(text)


# -- the printed forms ----------------------------------------------------------------------------------------


def test_update_operator() -> None:
    node = read("update")
    assert (node.kind, node.value) == ("op", "//")
    assert [c.kind for c in node.children] == ["set", "set"]
    assert [n for n, _, _ in node.children[1].bindings] == ["b"]


def test_dynamic_attribute_names() -> None:
    node = body(read("dynamic_names"))
    names = [n for n, _, _ in node.bindings]
    assert names[0] == "plain key"
    assert isinstance(names[1], Node) and (names[1].kind, names[1].value) == ("var", "x")
    assert isinstance(names[2], Node) and (names[2].kind, names[2].value) == ("op", "+")
    assert [c.value for c in names[2].children] == ["x", "y"]


def test_dynamic_attribute_in_a_select() -> None:
    node = body(read("dynamic_select"))
    assert node.kind == "select"
    dynamic, last = node.value
    assert isinstance(dynamic, Node) and dynamic.value == "x"
    assert last == "b"
    assert node.children[0].value == "a"


def test_assert_printed_without_parentheses() -> None:
    node = body(read("assert"))
    assert node.kind == "assert"
    condition, rest = node.children
    assert (condition.kind, condition.value) == ("op", "!=")
    assert (rest.kind, rest.value) == ("var", "x")


def test_inherit_from_is_a_select_and_plain_inherit_is_flagged() -> None:
    node = body(read("inherit_from"))
    assert [(n, v.kind, v.value, i) for n, v, i in node.bindings] == [
        ("a", "select", ["a"], False),
        ("b", "select", ["b"], False),
        ("c", "var", "c", True),
    ]
    assert node.bindings[0][1].children[0].value == "lib"


def test_paths_are_relative_to_the_tree_and_find_file_is_a_call() -> None:
    node = read("paths")
    values = {n: v for n, v, _ in node.bindings}
    assert {n: v.value for n, v in values.items() if v.kind == "path"} == {
        "p": "pkgs/foo",
        "q": "lib/default.nix",
        "r": "/abs/path",
        "v": "pkgs",
        "w": ".",
    }
    find = values["t"]
    assert find.kind == "call"
    assert [c.kind for c in find.children] == ["var", "var", "string"]
    assert (find.children[0].value, find.children[1].value, find.children[2].value) == (
        "__findFile",
        "__nixPath",
        "nixpkgs/lib",
    )


def test_paths_outside_the_root_stay_absolute() -> None:
    assert parse("/r2/x", "/r").value == "/r2/x"
    assert parse("/r/x", "/r/").value == "x"
    assert parse("/r/x").value == "/r/x"


def test_formals_defaults_and_at_patterns() -> None:
    node = read("formals")
    assert node.kind == "lambda" and node.value == "args"
    assert [(n, d is not None) for n, d in node.formals] == [("a", False), ("b", True)]
    second = node.children[0]
    assert second.value is None and [n for n, _ in second.formals] == ["c"]
    third = second.children[0]
    assert (third.value, third.formals) == ("x", [])
    fourth = third.children[0]
    assert fourth.value == "y" and [n for n, _ in fourth.formals] == ["z"]
    assert [c.value for c in fourth.children[0].children] == ["a", "b", "c", "x", "y", "z"]


def test_strings_and_interpolation() -> None:
    values = {n: v for n, v, _ in body(read("strings")).bindings}
    assert values["e"].kind == "string" and values["e"].value == ""
    s = values["s"]
    assert (s.kind, s.value) == ("op", "+")
    assert s.children[0].value == 'a"b\\c\n\t$x ${x} '
    assert s.children[1].value == "x"
    assert [c.value for c in values["i"].children] == ["ind ", "x", " ", "$", "{x} ", "''", "q  "]


def test_select_with_default_and_has_attr() -> None:
    node = body(read("select_or"))
    assert node.kind == "select" and node.value == ["b", "c"]
    assert len(node.children) == 2 and node.children[1].value == ["d"]
    tests = body(read("hasattr")).children
    assert [(t.kind, t.value) for t in tests] == [("hasattr", ["b"]), ("hasattr", ["b", "c"]), ("hasattr", ["y"])]
    assert tests[2].children[0].kind == "select"


def test_numbers() -> None:
    values = {n: (v.kind, v.value) for n, v, _ in read("numbers").bindings}
    assert values["i"] == ("int", "3")
    assert values["f"] == ("float", "1.5")
    assert values["j"] == ("float", "1.23457e+08")
    # Nix prints 2.0 as 2: the printed form cannot tell the float from the integer.
    assert values["g"] == ("int", "2")
    n = {name: v for name, v, _ in read("numbers").bindings}["n"]
    assert n.kind == "call" and n.children[0].value == "__sub"


def test_let_rec_if_with_not() -> None:
    let = body(read("let_inherit"))
    assert let.kind == "let" and [n for n, _, _ in let.bindings] == ["y", "z"]
    assert let.children[0].kind == "op"
    rec = read("rec_set")
    assert rec.kind == "set" and rec.value is True
    branch = body(read("if_with_not"))
    assert branch.kind == "if"
    assert [c.kind for c in branch.children] == ["var", "with", "not"]
    old = read("old_let")
    assert old.kind == "select" and old.children[0].value is True


def test_operators_one_each() -> None:
    items = body(read("operators")).children
    assert [i.value if i.kind == "op" else i.children[0].value for i in items] == [
        "->",
        "++",
        "==",
        "!=",
        "__lessThan",
        "&&",
        "||",
        "+",
        "__sub",
        "//",
    ]


def test_calls_lambdas_and_positions() -> None:
    call = body(read("call"))
    assert call.kind == "call" and [c.kind for c in call.children] == ["var", "lambda", "int"]
    assert read("cur_pos").kind == "pos"
    nested = read("nested_names")
    assert binding(binding(nested, "a"), "b").kind == "set"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("(a + b - c)", "mixed operators"),
        ("a b", "text left"),
        ("", "expected a token"),
        ("(a", "found the end"),
        ("in", "unexpected 'in'"),
        ("{ a = 1 }", "expected ;"),
        ("(a).", "expected an attribute name"),
    ],
)
def test_text_outside_the_grammar_is_a_mismatch(text: str, why: str) -> None:
    with pytest.raises(SyntaxMismatch, match=why):
        parse(text)


# -- any text: a Node or SyntaxMismatch, nothing else ---------------------------------------------------------

PIECES = [
    *"(){}[];:=.,?@!\"$\\/+-*<>&|' \n",
    "a",
    "b",
    "or",
    "in",
    "let ",
    "with ",
    "rec ",
    "inherit ",
    "if ",
    "then ",
    "else ",
    "assert ",
    "...",
    "${",
    '}"',
    "__curPos",
    "1",
    "1.5",
    "/r/x",
    "//",
    "->",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_any_text_parses_or_is_a_mismatch(text: str) -> None:
    with contextlib.suppress(SyntaxMismatch):
        parse(text, ROOT)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_unicode_text_parses_or_is_a_mismatch(text: str) -> None:
    with contextlib.suppress(SyntaxMismatch):
        parse(text, ROOT)


def test_deep_nesting_is_a_recursion_error_the_callers_catch() -> None:
    with pytest.raises(RecursionError):
        parse("(" * 5000 + "a" + ")" * 5000)
