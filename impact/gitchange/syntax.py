"""Nix expressions as Nix itself parses them: `nix-instantiate --parse` output read back into a small tree.

impact never parses Nix source itself. Nix's own parser (`nix-instantiate --parse FILE…`) reads each file and
prints the expression in a canonical form: one line a file, every compound expression in parentheses, string
interpolation as `+`, `inherit (x) a` as `a = (x).a`, comments and layout gone, and path literals resolved to
absolute paths. That form has a small regular grammar, which this module reads into `Node`s. A file Nix cannot
parse is reported as such, never read half-way.

The grammar read here is Nix 2.8's printer (src/libexpr/nixexpr.cc, `Expr*::show`):

    expr   := INT | FLOAT | STRING | PATH | ID | '__curPos'
            | '(' expr ').' attrpath [ 'or (' expr ')' ]            select
            | '((' expr ') ? ' attrpath ')'                          has-attr
            | ['rec'] '{' (ID '=' expr ';' | 'inherit' ID… ';' | '"${' expr '}"' '=' expr ';')* '}'
            | '[' ('(' expr ')')* ']'
            | '(' formals [ '@' ID ] ':' expr ')' | '(' ID [ '@' formals ] ':' expr ')'
            | '(let' bindings 'in' expr ')' | '(with' expr ';' expr ')'
            | '(if' expr 'then' expr 'else' expr ')' | '(assert' expr ';' expr ')' | '(!' expr ')'
            | '(' expr (OP expr)+ ')' | '(' expr expr+ ')'            operators, calls
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Binary operators as Nix 2.8 prints them (`a + b` also stands for string concatenation and interpolation).
OPERATORS = frozenset({"+", "-", "*", "/", "++", "//", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "->"})
_KEYWORDS = frozenset({"let", "in", "with", "if", "then", "else", "assert", "rec", "inherit", "or"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\$]|\\.|\$(?!\{))*")            # a string without ${ (printed escaped as \$)
  | (?P<dynamic>"\$\{)                                 # "${ opens a dynamic attribute name
  | (?P<update>//)                                     # the update operator (before paths: never a path)
  | (?P<path>/[A-Za-z0-9._+\-][A-Za-z0-9._+\-/]*|/(?=[\s);\]]))  # an absolute path (the printer resolves ./x)
  | (?P<number>\d+(?:\.\d*)?(?:[Ee][+-]?\d+)?)
  | (?P<id>[A-Za-z_][A-Za-z0-9_'\-]*)
  | (?P<op>\.\.\.|\+\+|//|==|!=|<=|>=|&&|\|\||->|[-+*/<>!?@:;=.,(){}\[\]])
    """,
    re.VERBOSE,
)


class SyntaxMismatch(ValueError):
    """The printed form does not match the grammar this module reads (a Nix version printing differently)."""


@dataclass(slots=True)
class Node:
    """One expression: `kind` names it, `value` holds a literal, `children` the subexpressions in order.

    kinds: `int`, `float`, `string` (value: the text), `path` (value: relative to the tree's top, absolute
    outside it), `var` (value: the name), `pos`, `select` (value: the attribute path, a dynamic name as its
    expression; children: the set, then the default if any), `hasattr` (value: the path), `set` (value: True
    when `rec`; `bindings`), `list`, `lambda` (value: the argument name or None; `formals`), `let` (`bindings`,
    children: the body), `with` (children: scope, body), `if`,
    `assert`, `not`, `op` (value: the operator), `call` (children: function, then arguments).
    """

    kind: str
    value: object = None
    children: list[Node] = field(default_factory=list)
    #: `set`/`let`: (name, value, True when `inherit name`) in order; a dynamic name is its expression.
    bindings: list[tuple[str | Node, Node, bool]] = field(default_factory=list)
    #: `lambda` with a formals set: the formal names, each with its default (or None).
    formals: list[tuple[str, Node | None]] = field(default_factory=list)


def tokens(text: str) -> list[tuple[str, str]]:
    """The tokens of one printed expression, as (kind, text); whitespace dropped.

    A dynamic attribute name `"${e}"` gives the tokens `dynamic` (`"${`), those of `e`, and `dynend` (`}"`).
    """
    out: list[tuple[str, str]] = []
    braces: list[bool] = []  # one entry per open `{` or `"${`: True for `"${`
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SyntaxMismatch(f"unexpected character {text[pos]!r} at offset {pos}")
        kind = m.lastgroup or ""
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "update":
            kind = "op"
        tok = m.group()
        if kind == "dynamic":
            braces.append(True)
        elif tok == "{":
            braces.append(False)
        elif tok == "}":
            if not braces:
                raise SyntaxMismatch(f"unbalanced '}}' at offset {pos - 1}")
            if braces.pop():
                if not text.startswith('"', pos):
                    raise SyntaxMismatch(f"a dynamic attribute name is not closed at offset {pos}")
                pos += 1
                kind, tok = "dynend", '}"'
        out.append((kind, tok))
    if braces:
        raise SyntaxMismatch("unbalanced '{' at the end")
    return out


def unquote(literal: str) -> str:
    """The value of a printed string literal (`"a\\"b"` → `a"b`)."""
    body = literal[1:-1]
    escapes = {"n": "\n", "t": "\t", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), body, flags=re.DOTALL)


class _Parser:
    def __init__(self, text: str, root: str | None) -> None:
        self.toks = tokens(text)
        self.i = 0
        self.root = root.rstrip("/") if root else None

    def path(self, text: str) -> str:
        """A path inside the tree relative to its top (`.` for the top), any other path absolute."""
        if self.root is not None:
            if text == self.root:
                return "."
            if text.startswith(self.root + "/"):
                return text[len(self.root) + 1 :]
        return text

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "eof" or (text is not None and tok[1] != text):
            raise SyntaxMismatch(f"expected {text or 'a token'}, found {tok[1] or 'the end'} at token {self.i}")
        self.i += 1
        return tok

    def at(self, text: str, k: int = 0) -> bool:
        kind, t = self.peek(k)
        return t == text and kind in ("op", "id")

    # -- expressions ------------------------------------------------------------------------------------------

    def expr(self) -> Node:
        kind, text = self.peek()
        if kind == "op" and text == "(":
            return self.suffixes(self.parenthesized())
        if kind == "op" and text == "{":
            return self.suffixes(self.attrset(False))
        if kind == "id" and text == "rec" and self.at("{", 1):
            self.take()
            return self.suffixes(self.attrset(True))
        if kind == "op" and text == "[":
            return self.list_()
        if kind == "id" and text == "assert":  # printed without parentheses: `assert c; body`
            self.take()
            cond = self.expr()
            self.take(";")
            return Node("assert", None, [cond, self.expr()])
        self.take()
        if kind == "string":
            return Node("string", unquote(text))
        if kind == "path":
            return Node("path", self.path(text))
        if kind == "number":
            return Node("float" if "." in text or "e" in text.lower() else "int", text)
        if kind == "id" and text not in _KEYWORDS:
            return Node("pos") if text == "__curPos" else Node("var", text)
        raise SyntaxMismatch(f"unexpected {text!r} at token {self.i - 1}")

    def suffixes(self, node: Node) -> Node:
        """`(e).a.b or (d)`: the printer writes a select right after a parenthesized set."""
        if self.at("."):
            self.take(".")
            path = self.attrpath()
            node = Node("select", path, [node])
            if self.at("or"):
                self.take("or")
                self.take("(")
                node.children.append(self.expr())
                self.take(")")
        return node

    def attrpath(self) -> list[str | Node]:
        path: list[str | Node] = [self.attrname()]
        while self.at("."):
            self.take(".")
            path.append(self.attrname())
        return path

    def attrname(self) -> str | Node:
        kind, text = self.peek()
        if kind == "id":
            self.take()
            return text
        if kind == "string":
            self.take()
            return unquote(text)
        if kind == "dynamic":
            self.take()
            return self.dynamic_rest()
        raise SyntaxMismatch(f"expected an attribute name, found {text!r} at token {self.i}")

    def dynamic_rest(self) -> Node:
        """After `"${`: the expression and the closing `}"`."""
        inner = self.expr()
        kind, text = self.take()
        if kind != "dynend":
            raise SyntaxMismatch(f"expected the end of a dynamic attribute name, found {text!r} at token {self.i}")
        return inner

    def list_(self) -> Node:
        self.take("[")
        items: list[Node] = []
        while not self.at("]"):
            items.append(self.expr())
        self.take("]")
        return Node("list", None, items)

    def attrset(self, rec: bool) -> Node:
        self.take("{")
        node = Node("set", rec)
        node.bindings = self.bindings("}")
        self.take("}")
        return node

    def bindings(self, end: str) -> list[tuple[str | Node, Node, bool]]:
        out: list[tuple[str | Node, Node, bool]] = []
        while not self.at(end):
            if self.at("inherit"):
                self.take()
                while not self.at(";"):
                    kind, name = self.take()
                    out.append((unquote(name) if kind == "string" else name, Node("var", name), True))
                self.take(";")
                continue
            attr = self.attrname()
            self.take("=")
            out.append((attr, self.expr(), False))
            self.take(";")
        return out

    def parenthesized(self) -> Node:
        self.take("(")
        kind, text = self.peek()
        if kind == "id" and text == "let" and not self.at("=", 1):
            self.take()
            node = Node("let")
            node.bindings = self.bindings("in")
            self.take("in")
            node.children = [self.expr()]
        elif kind == "id" and text == "with":
            self.take()
            scope = self.expr()
            self.take(";")
            node = Node("with", None, [scope, self.expr()])
        elif kind == "id" and text == "if":
            self.take()
            cond = self.expr()
            self.take("then")
            then = self.expr()
            self.take("else")
            node = Node("if", None, [cond, then, self.expr()])
        elif kind == "id" and text == "assert":
            self.take()
            cond = self.expr()
            self.take(";")
            node = Node("assert", None, [cond, self.expr()])
        elif kind == "op" and text == "!":
            self.take()
            node = Node("not", None, [self.expr()])
        elif self.lambda_ahead():
            node = self.lambda_()
        else:
            node = self.sequence()
        self.take(")")
        return node

    def lambda_ahead(self) -> bool:
        kind, _ = self.peek()
        if kind == "id" and (self.at(":", 1) or self.at("@", 1)):
            return True
        if not self.at("{"):
            return False
        # `{ }:`, `{ a, …`, `{ a ? …`, `{ a }:`, `{ ... }`: formals; `{ a = …` / `{ inherit …`: a set.
        k1, t1 = self.peek(1)
        if t1 == "}":
            return self.at(":", 2) or self.at("@", 2)
        if t1 == "...":
            return True
        return k1 == "id" and t1 != "inherit" and self.peek(2)[1] in (",", "?", "}")

    def lambda_(self) -> Node:
        node = Node("lambda")
        if self.peek()[0] == "id":
            node.value = self.take()[1]
            if self.at("@"):
                self.take("@")
                node.formals = self.formals()
        else:
            node.formals = self.formals()
            if self.at("@"):
                self.take("@")
                node.value = self.take()[1]
        self.take(":")
        node.children = [self.expr()]
        return node

    def formals(self) -> list[tuple[str, Node | None]]:
        self.take("{")
        out: list[tuple[str, Node | None]] = []
        while not self.at("}"):
            if self.at("..."):
                self.take()
            else:
                name = self.take()[1]
                default = None
                if self.at("?"):
                    self.take("?")
                    default = self.expr()
                out.append((name, default))
            if self.at(","):
                self.take(",")
        self.take("}")
        return out

    def sequence(self) -> Node:
        """`(a OP b OP c)` or `(f x y)`; also `((e) ? path)`."""
        first = self.expr()
        if self.at("?"):
            self.take("?")
            return Node("hasattr", self.attrpath(), [first])
        kind, text = self.peek()
        if kind == "op" and text in OPERATORS:
            op = text
            items = [first]
            while self.at(op):
                self.take(op)
                items.append(self.expr())
            if not self.at(")"):
                raise SyntaxMismatch(f"mixed operators after {op!r} at token {self.i}")
            return Node("op", op, items)
        if self.at(")"):
            return first
        args = [first]
        while not self.at(")"):
            args.append(self.expr())
        return Node("call", None, args)


def parse(text: str, root: str | None = None) -> Node:
    """One expression in the form `nix-instantiate --parse` prints, as a `Node` tree.

    Paths under `root` (the folder the file was parsed in) are kept relative to it, so that two versions of a
    file parsed in different folders compare equal where they say the same.
    """
    parser = _Parser(text, root)
    node = parser.expr()
    if parser.peek()[0] != "eof":
        raise SyntaxMismatch(f"text left after the expression at token {parser.i}")
    return node


_RUN = re.compile(r"[A-Za-z0-9._+\-/~]+")
_FLOAT = re.compile(r"(?:[1-9][0-9]*\.[0-9]*|0?\.[0-9]+)(?:[Ee][+-]?[0-9]+)?")


def float_literals(source: str) -> list[str]:
    """The float literals of a Nix source text, as written (`8.0`, `1.5e3`), outside comments and strings.

    Nix 2.8's printer writes floats rounded to six digits and `8.0` as `8`: a change of a float is invisible in
    `nix-instantiate --parse`, so the binding diff compares these too. Code inside `${…}` is scanned as code.
    """
    out: list[str] = []
    i, n = 0, len(source)
    depth: list[int] = []  # brace depth of each `${` opened inside a string, innermost last
    braces = 0
    mode: list[str] = ["code"]
    while i < n:
        c = source[i]
        state = mode[-1]
        if state == "code":
            if c == "#":
                j = source.find("\n", i)
                i = n if j < 0 else j
            elif source.startswith("/*", i):
                j = source.find("*/", i + 2)
                i = n if j < 0 else j + 2
            elif c == '"':
                mode.append("string")
                i += 1
            elif source.startswith("''", i):
                mode.append("indented")
                i += 2
            elif c == "{":
                braces += 1
                i += 1
            elif c == "}":
                if depth and braces == depth[-1]:
                    depth.pop()
                    mode.pop()
                else:
                    braces -= 1
                i += 1
            else:
                m = _RUN.match(source, i)
                if m:
                    if _FLOAT.fullmatch(m.group()):
                        out.append(m.group())
                    i = m.end()
                else:
                    i += 1
        elif state == "string":
            if c == "\\":
                i += 2
            elif c == '"':
                mode.pop()
                i += 1
            elif source.startswith("${", i):
                mode.append("code")
                depth.append(braces)
                i += 2
            else:
                i += 1
        else:  # indented string
            if source.startswith("'''", i) or source.startswith("''$", i) or source.startswith("''\\", i):
                i += 3
            elif source.startswith("''", i):
                mode.pop()
                i += 2
            elif source.startswith("${", i):
                mode.append("code")
                depth.append(braces)
                i += 2
            else:
                i += 1
    return out
