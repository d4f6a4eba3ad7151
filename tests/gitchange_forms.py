"""Nix expressions and the text `nix-instantiate --parse` (Nix 2.8) prints for each, for the unit tests of
`impact.gitchange.syntax`, `facts` and `bindings`, which read that text without running Nix.

Each source is a file at `ROOT/pkgs/f.nix` (so `./x` prints as `/r/pkgs/x` and `../x` as `/r/x`).
tests/integration/test_gitchange_parse_nix.py checks with real Nix that every printed form here is Nix's own.
"""

from __future__ import annotations

#: The tree's top folder in the printed forms.
ROOT = "/r"
#: The folder (under ROOT) of the file each source is parsed as.
FOLDER = "pkgs"

#: name → (Nix source, what `nix-instantiate --parse` prints for it).
FORMS: dict[str, tuple[str, str]] = {
    "update": (
        "{ a = 1; } // { b = 2; }",
        "({ a = 1; } // { b = 2; })\n",
    ),
    "dynamic_names": (
        'x: { "${x}" = 1; ${x + "y"} = 2; "plain key" = 4; }',
        '(x: { "plain key" = 4; "${(x)}" = 1; "${(x + "y")}" = 2; })\n',
    ),
    "dynamic_select": (
        "x: a: a.${x}.b",
        '(x: (a: (a)."${x}".b))\n',
    ),
    "assert": (
        "x: assert x != null; x",
        "(x: assert (x != null); x)\n",
    ),
    "inherit_from": (
        "lib: c: { inherit (lib) a b; inherit c; }",
        "(lib: (c: { a = (lib).a; b = (lib).b; inherit c ; }))\n",
    ),
    "paths": (
        "{ p = ./foo; q = ../lib/default.nix; r = /abs/path; t = <nixpkgs/lib>; u = <other>; v = ./.; w = ../.; }",
        '{ p = /r/pkgs/foo; q = /r/lib/default.nix; r = /abs/path; t = (__findFile __nixPath "nixpkgs/lib"); u = (__findFile __nixPath "other"); v = /r/pkgs; w = /r; }\n',
    ),
    "formals": (
        "{ a, b ? 1, ... }@args: { c ? null }: x: y@{ z }: [ a b c x y z ]",
        "({ a, b ? 1, ... } @ args: ({ c ? null }: (x: ({ z } @ y: [ (a) (b) (c) (x) (y) (z) ]))))\n",
    ),
    "strings": (
        "x: { s = \"a\\\"b\\\\c\\n\\t$x \\${x} ${x}\"; i = ''  ind ${x} ''${x} '''q  ''; e = \"\"; }",
        '(x: { e = ""; i = ("ind " + x + " " + "\\$" + "{x} " + "\'\'" + "q  "); s = ("a\\"b\\\\c\\n\\t\\$x \\${x} " + x); })\n',
    ),
    "select_or": (
        "a: a.b.c or (a.d)",
        "(a: (a).b.c or ((a).d))\n",
    ),
    "hasattr": (
        'a: [ (a ? b) (a ? b.c) (a.x ? "y") ]',
        "(a: [ (((a) ? b)) (((a) ? b.c)) ((((a).x) ? y)) ])\n",
    ),
    "numbers": (
        "{ i = 3; f = 1.5; g = 2.0; h = 0.001; j = 123456789.5; n = -1; }",
        "{ f = 1.5; g = 2; h = 0.001; i = 3; j = 1.23457e+08; n = (__sub 0 1); }\n",
    ),
    "let_inherit": (
        "x: let inherit (x) y; z = 1; in y + z",
        "(x: (let y = (x).y; z = 1; in (y + z)))\n",
    ),
    "rec_set": (
        "rec { a = 1; b = a; }",
        "rec { a = 1; b = a; }\n",
    ),
    "if_with_not": (
        "c: d: if c then with d; e else !c",
        "(c: (d: (if c then (with d; e) else (! c))))\n",
    ),
    "operators": (
        "a: b: [ (a -> b) (a ++ b) (a == b) (a != b) (a < b) (a && b) (a || b) (a + b) (a - b) (a // b) ]",
        "(a: (b: [ ((a -> b)) ((a ++ b)) ((a == b)) ((a != b)) ((__lessThan a b)) ((a && b)) ((a || b)) ((a + b)) ((__sub a b)) ((a // b)) ]))\n",
    ),
    "cur_pos": (
        "__curPos",
        "__curPos\n",
    ),
    "prefix": (
        'x: ./dir + "/${x}.nix"',
        '(x: (/r/pkgs/dir + ("/" + x + ".nix")))\n',
    ),
    "tree_path": (
        'pkgs: pkgs.path + "/nixos/lib/eval-config.nix"',
        '(pkgs: ((pkgs).path + "/nixos/lib/eval-config.nix"))\n',
    ),
    "to_string": (
        "x: toString ./x",
        "(x: (toString /r/pkgs/x))\n",
    ),
    "import_to_string": (
        "import (toString ./x)",
        "(import (toString /r/pkgs/x))\n",
    ),
    "call": (
        "f: f (g: g) 1",
        "(f: (f (g: g) 1))\n",
    ),
    "nested_names": (
        "{ a.b.c = 1; a.d = 2; }",
        "{ a = { b = { c = 1; }; d = 2; }; }\n",
    ),
    "old_let": (
        "let { body = 1; a = 2; }",
        "(rec { a = 2; body = 1; }).body\n",
    ),
    "interpolated_only": (
        'x: "${x}"',
        "(x: (x))\n",
    ),
    "root_plus": (
        '/. + "/x"',
        '(/ + "/x")\n',
    ),
    "callpackage": (
        "{ callPackage, foo, bar, baz }: { a = callPackage ./x { inherit foo; }; b = callPackage ./y { foo = bar; }; c = baz.override { }; }",
        "({ callPackage, foo, bar, baz }: { a = (callPackage /r/pkgs/x { inherit foo ; }); b = (callPackage /r/pkgs/y { foo = bar; }); c = ((baz).override { }); })\n",
    ),
    "package": (
        '{ stdenv, libfoo, curl, lib, withX, foo, zlib, bar }: stdenv.mkDerivation { buildInputs = [ libfoo ]; s = "${curl}/bin"; d = zlib.dev; f = lib.optional withX foo; n = bar == null; patches = [ ./fix.patch ]; }',
        '({ stdenv, libfoo, curl, lib, withX, foo, zlib, bar }: ((stdenv).mkDerivation { buildInputs = [ (libfoo) ]; d = (zlib).dev; f = ((lib).optional withX foo); n = (bar == null); patches = [ (/r/pkgs/fix.patch) ]; s = (curl + "/bin"); }))\n',
    ),
    "member_and_value": (
        "{ lib, f, foo, bar, baz, qux, m }: [ (with lib; x) (lib.optional) (f foo) (bar // { }) (baz.src) (qux ? a) (let n = m.maintainers; in n.alice) ]",
        "({ lib, f, foo, bar, baz, qux, m }: [ ((with lib; x)) ((lib).optional) ((f foo)) ((bar // { })) ((baz).src) (((qux) ? a)) ((let n = (m).maintainers; in (n).alice)) ])\n",
    ),
    "computed": (
        'x: [ (builtins.readDir ./.) (builtins.readDir x) (import x) (import (builtins.toPath ("/" + x))) ]',
        '(x: [ (((builtins).readDir /r/pkgs)) (((builtins).readDir x)) ((import x)) ((import ((builtins).toPath ("/" + x)))) ])\n',
    ),
    "let_path_name": (
        'let nixosPath = toString ../.; in import (nixosPath + "/nixos/lib")',
        '(let nixosPath = (toString /r); in (import (nixosPath + "/nixos/lib")))\n',
    ),
}


def printed(name: str) -> str:
    """The printed form of the source called `name`."""
    return FORMS[name][1]


# -- package-set files: a set of ≥ 20 bindings in a `with self;` fixed point, as all-packages.nix ---------------


def set_file(
    bindings: dict[str, tuple[str, str]],
    formals: str = "lib, callPackage",
    helper: tuple[str, str] = ("x: x", "(x: x)"),
    comments: bool = False,
) -> tuple[str, str]:
    """The source and printed form of a package-set file whose bindings are `bindings` (name → (source, printed
    value)); with `comments`, the same file with comments and another layout."""
    if comments:
        lines = [f"  # {name}\n  {name} =\n    {value};\n" for name, (value, _) in reversed(bindings.items())]
        source = f"/* the set */ {{ {formals} }}:\nself:\nlet helper = {helper[0]}; # local\nin with self; {{\n{''.join(lines)}}}"
    else:
        lines = [f"  {name} = {value};\n" for name, (value, _) in bindings.items()]
        source = f"{{ {formals} }}:\nself:\nlet\n  helper = {helper[0]};\nin\nwith self;\n{{\n{''.join(lines)}}}"
    body = " ".join(f"{name} = {p};" for name, (_, p) in sorted(bindings.items()))
    printed = f"({{ {formals} }}: (self: (let helper = {helper[1]}; in (with self; {{ {body} }}))))\n"
    return source, printed


def _package(name: str, args: str = "") -> tuple[str, str]:
    return f"callPackage ./{name} {{ {args}}}", f"(callPackage {ROOT}/{FOLDER}/{name} {{ {args}}})"


#: The bindings of the package-set file the binding-diff tests change.
SET_BINDINGS: dict[str, tuple[str, str]] = {
    **{f"p{i}": _package(f"p{i}") for i in range(20)},
    "alias": ("p1", "p1"),
    "used": ("helper p2", "(helper p2)"),
    "override": ("p4.override { withX = true; }", "((p4).override { withX = true; })"),
}

FORMS.update(
    {
        "set_base": set_file(SET_BINDINGS),
        "set_comments": set_file(SET_BINDINGS, comments=True),
        "set_one_binding": set_file({**SET_BINDINGS, "p3": _package("p3", "withX = true; ")}),
        "set_added": set_file({**SET_BINDINGS, "p20": _package("p20")}),
        "set_removed": set_file({k: v for k, v in SET_BINDINGS.items() if k != "p19"}),
        "set_frame": set_file(SET_BINDINGS, formals="lib, callPackage, extra"),
        "set_let": set_file(SET_BINDINGS, helper=("x: [ x ]", "(x: [ (x) ])")),
        "set_small": set_file({k: SET_BINDINGS[k] for k in ("p0", "p1", "alias")}),
        "set_small_changed": set_file(
            {"p0": _package("p0", "a = 1; "), **{k: SET_BINDINGS[k] for k in ("p1", "alias")}}
        ),
    }
)
