"""What one Nix file reads: the files it names, the names it takes from outside, and how it uses each.

`file_facts` walks a file's expression (`impact.gitchange.syntax`) with its lexical scopes and records:

- **references**: every path the file names (a path literal, `<nixpkgs/…>`, a path with a constant suffix), how
  (imported, used as a value that Nix copies or reads, a prefix completed at evaluation time, a directory
  listed with `readDir`) and in which *unit* of the file;
- **uses**: every name the file takes from outside its own scopes (a free variable, a variable under `with`,
  a formal argument of the file's own function, which `callPackage` fills from the package set, or an
  attribute selected from any value), each with the strongest use made of it in each unit: `plain` (the value
  only reaches a list, a string, or an output of a derivation: Nix records it as an input of the derivation)
  or `value` (anything else: an attribute other than an output, a call, `override`, `with`, …);
- **dynamic paths**: paths built at evaluation time from something other than a literal.

A file that defines a package set (all-packages.nix, python-packages.nix, a `makeScope` set, …) is read at the
level of its bindings: the *units* are the bindings of its largest attribute set and the `let` bindings around
it; everything else in the file is the unit None. Any other file is one unit, None.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from impact.gitchange.syntax import Node

#: Output names whose selection (`pkg.dev`) is a plain use: Nix records the derivation as an input.
OUTPUT_NAMES = frozenset({"out", "bin", "dev", "man", "doc", "info", "devdoc", "static", "debug", "outPath"})
#: Functions of nixpkgs' lib that only pass their arguments on into a list or a string (a plain use stays plain).
PASSING = frozenset(
    {
        "optional",
        "optionals",
        "optionalString",
        "toString",
        "makeBinPath",
        "makeLibraryPath",
        "makeSearchPath",
        "makeSearchPathOutput",
        "makePerlPath",
        "makeFullPerlPath",
        "getBin",
        "getLib",
        "getDev",
        "getMan",
        "getOutput",
        "concatStringsSep",
        "flatten",
        "singleton",
    }
)
#: The names under which files reach the package set, whose `path` is nixpkgs' own top (`pkgs.path`).
TREE_HOLDERS = frozenset({"pkgs", "self", "super", "res", "final", "prev"})
#: How strong a use is: `plain` (only outputs reach a derivation), `pass` (given on under its own name,
#: `callPackage ./x { inherit foo; }`: the callee's uses are found by the name), `alias` (bound to another name, in
#: a `let` or a set: that binding then changes with it), `member` (named members selected, or the value is a
#: `with` scope: the members' own names are uses too), `value` (anything else).
USE_STRENGTH = {"plain": 0, "pass": 1, "alias": 2, "member": 3, "value": 4}
#: A set with at least this many bindings makes its file a package set, read binding by binding.
SET_FILE_BINDINGS = 20
#: The jobsets' release files: their sets are jobs, however few (`manual = import ../../doc …`).
RELEASE_FILES = ("pkgs/top-level/release.nix", "nixos/release.nix")


def min_bindings_of(path: str) -> int:
    """How many bindings make a set of the file at `path` its units: any set of a release file."""
    return 1 if path in RELEASE_FILES else SET_FILE_BINDINGS


@dataclass(frozen=True, slots=True)
class Reference:
    """A path a file names."""

    #: The path, relative to the tree's top (`pkgs/tools/misc/hello`), or absolute when outside the tree.
    target: str
    #: `import` (the file, or `default.nix` of a directory, is evaluated), `value` (a path value: copied into
    #: the store or read whole), `prefix` (a path completed at evaluation time: anything under it),
    #: `readdir` (a directory listed).
    how: str
    #: The unit of the naming file (a binding name), or None for the whole file.
    unit: str | None
    #: For an imported file, how the unit uses the imported value (`alias`, `member`, `value`…, as for names).
    context: str = "value"


@dataclass(slots=True)
class FileFacts:
    """What one file reads (see the module's docstring)."""

    #: The units of a package-set file (its largest set's bindings, and the `let` bindings around it), else empty.
    units: tuple[str, ...] = ()
    #: Whether the file's value is the set whose bindings are the units (`Units.top`).
    units_top: bool = False
    #: The units bound by a `let` only (`Units.local`): no other file sees them.
    local_units: frozenset[str] = frozenset()
    references: list[Reference] = field(default_factory=list)
    #: name → unit (None: the whole file) → how it is used (`USE_STRENGTH`), for names used on their own (a free
    #: variable, a formal argument, under `with`).
    uses: dict[str, dict[str | None, str]] = field(default_factory=dict)
    #: name → qualifier → unit → how, for names selected from something (`pkgs.name`: qualifier `pkgs`; `?` when
    #: what is selected from has no name, as `(import ./x {}).name`).
    qualified: dict[str, dict[str, dict[str | None, str]]] = field(default_factory=dict)
    #: unit → the name its value is a renaming of (`perlPackages = perl528Packages;` → `perl528Packages`).
    aliases: dict[str, str] = field(default_factory=dict)
    #: (unit, what): paths built at evaluation time from something other than a path literal.
    dynamic: list[tuple[str | None, str]] = field(default_factory=list)
    #: The top-level function's formal arguments (filled by `callPackage` from the package set).
    formals: tuple[str, ...] = ()

    def use(self, name: str, unit: str | None, how: str, qualifier: str | None = None) -> None:
        """Record a use of `name` in `unit`; the strongest kept (`value` over `member` over `plain`). A qualified
        use (`q.name`, `qualifier` q, `?` when q is no name) is kept apart, per qualifier."""
        if qualifier is None:
            per = self.uses.setdefault(name, {})
        else:
            per = self.qualified.setdefault(name, {}).setdefault(qualifier, {})
        if USE_STRENGTH[how] > USE_STRENGTH.get(per.get(unit, ""), -1):
            per[unit] = how


def _children(node: Node) -> Iterator[Node]:
    yield from node.children
    for name, value, _ in node.bindings:
        if isinstance(name, Node):
            yield name
        yield value
    for _, default in node.formals:
        if default is not None:
            yield default
    if node.kind in ("select", "hasattr") and isinstance(node.value, list):
        yield from (c for c in node.value if isinstance(c, Node))


def _all_nodes(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(_children(node))


@dataclass(frozen=True)
class Units:
    """The units of a package-set file: binding name → the value expressions bound to it (a name may be bound
    in more than one of the file's sets, `{ … } // { aliases }`)."""

    values: dict[str, list[Node]]
    #: True when the file's value is that set (reached through functions, `let`, `with`, `//` and calls given it
    #: last, as `makeScope`), False when the set sits deeper (an option's value, a list's element…).
    top: bool = True
    #: Names bound only by the `let` expressions: seen inside the file alone.
    local: frozenset[str] = frozenset()

    def unit_of(self) -> dict[int, str]:
        """`id` of each value expression → its unit's name."""
        return {id(v): name for name, vs in self.values.items() for v in vs}


def package_set(root: Node, min_bindings: int = SET_FILE_BINDINGS) -> Units | None:
    """The units of a file whose largest attribute set has `min_bindings` bindings or more, else None.

    The units are the bindings of that set, of the sets merged with it (`//`, also through a call such as
    `mapAttrs f { … }`) and of the `let` expressions on the way to it (a `let` binding that holds the set is
    part of the frame, not a unit).
    """
    parent: dict[int, Node] = {}
    best: Node | None = None
    stack = [root]
    while stack:
        node = stack.pop()
        big = node.kind == "set" and len(node.bindings) >= min_bindings
        if big and (best is None or len(node.bindings) > len(best.bindings)):
            best = node
        for c in _children(node):
            parent[id(c)] = node
            stack.append(c)
    if best is None:
        return None
    path: list[Node] = [best]
    while id(path[-1]) in parent:
        path.append(parent[id(path[-1])])
    on_path = {id(n) for n in path}
    top = all(_passes_value_on(outer, inner) for outer, inner in zip(path[1:], path[:-1]))
    holders: list[Node] = [best]
    for node in path[1:]:
        if node.kind == "op" and node.value == "//":
            holders.extend(s for operand in node.children for s in _merged_sets(operand) if s is not best)
        elif node.kind == "let":
            holders.append(node)
    values: dict[str, list[Node]] = {}
    in_sets: set[str] = set()
    for holder in holders:
        for name, value, _ in holder.bindings:
            if isinstance(name, str) and id(value) not in on_path:
                values.setdefault(name, []).append(value)
                if holder.kind == "set":
                    in_sets.add(name)
    return Units(values, top, frozenset(values) - in_sets)


def _passes_value_on(outer: Node, inner: Node) -> bool:
    """Whether `outer`'s value is `inner`'s (or a set built from it): the body of a function, `let`, `with` or
    `assert`, an operand of `//`, or a call's last argument (`makeScope newScope (self: { … })`)."""
    if outer.kind == "let":
        body = outer.children[-1]
        if body is inner:
            return True
        # `let lib = makeExtensible (…); in lib`: the value is the binding the body names.
        return body.kind == "var" and any(n == body.value and v is inner for n, v, _ in outer.bindings)
    if outer.kind in ("lambda", "with", "assert"):
        return outer.children[-1] is inner
    if outer.kind == "op" and outer.value == "//":
        return True
    if outer.kind == "call":
        return outer.children[-1] is inner and outer.children[0] is not inner
    return False


def _merged_sets(node: Node) -> list[Node]:
    """The attribute sets an operand of `//` is made of: a set, a set given last to a call, a `//` of those."""
    if node.kind == "set":
        return [node]
    if node.kind == "call" and node.children:
        return _merged_sets(node.children[-1])
    if node.kind == "op" and node.value == "//":
        return [s for c in node.children for s in _merged_sets(c)]
    if node.kind in ("with", "let", "assert"):
        return _merged_sets(node.children[-1])
    return []


def fingerprint(node: Node, hidden: frozenset[int] = frozenset()) -> tuple:
    """A hashable form of `node` (equal for expressions Nix reads the same), leaving out the bindings whose
    value is in `hidden` (by `id`): the frame of a package-set file is its fingerprint with the units hidden."""
    value = node.value
    if isinstance(value, list):
        value = tuple(fingerprint(n, hidden) if isinstance(n, Node) else n for n in value)
    # Nix 2.8 prints a set's bindings and a function's formals in the order its symbol table first met the names,
    # which depends on what the process parsed before: the order is no part of the expression.
    bindings = sorted(
        (
            (("", n) if isinstance(n, str) else ("$", repr(fingerprint(n, hidden))), fingerprint(v, hidden), i)
            for n, v, i in node.bindings
            if id(v) not in hidden
        ),
        key=repr,
    )
    return (
        node.kind,
        value,
        tuple(fingerprint(c, hidden) for c in node.children),
        tuple(bindings),
        tuple(sorted(((n, None if d is None else fingerprint(d, hidden)) for n, d in node.formals), key=repr)),
    )


class _Walker:
    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.unit_of: dict[int, str] = {}
        #: The file's own function: its formals come from outside (callPackage), so their uses are recorded.
        self.top: Node | None = None
        #: Names the file binds to one of `PASSING` (`opt = stdenv.lib.optional;`).
        self.passing: set[str] = set(PASSING)
        #: The file's units: read by name from other units of the file (`let`, `rec`), those reads are uses.
        self.unit_names: set[str] = set()
        #: The `with` scopes around the node walked: a namespace's name (`platforms`) or None for any other scope.
        self.with_scopes: list[str | None] = []
        #: Names the file's functions take as parameters (in any scope).
        self.parameters: set[str] = set()
        #: The sets given to a call as an argument (`callPackage ./x { … }`).
        self.call_args: set[int] = set()
        #: A value bound to a local name (`let m = lib.maintainers;`) → how that name is used (the strongest use).
        self.override_how: dict[int, str] = {}
        #: The path of an `import` call → how the unit uses the imported value.
        self.import_context: dict[int, str] = {}
        #: `toString` calls whose result is imported or read (`import (toString ./x)`).
        self.read_calls: set[int] = set()
        #: Names bound to a path literal or its `toString` (`nixosPath = toString ../..;`): name → path.
        self.path_names: dict[str, str] = {}

    def how(self, node: Node, parent: Node | None) -> str:
        if id(node) in self.override_how:
            return self.override_how[id(node)]
        in_call = parent is not None and id(parent) in self.call_args
        how = _how_used(node, parent, self.passing, in_call)
        if how == "alias" and id(node) not in self.unit_of:
            return "value"  # put in a set or `let` below a unit: that unit's value holds it, not a name we follow
        return how

    def reference(self, target: str, how: str, unit: str | None, context: str = "value") -> None:
        self.facts.references.append(Reference(posixpath.normpath(target), how, unit, context))

    def walk(self, node: Node, bound: frozenset[str], under_with: bool, unit: str | None, parent: Node | None) -> None:
        """Record the references and uses of `node`; `bound` are the names bound lexically around it."""
        unit = self.unit_of.get(id(node), unit)
        kind = node.kind
        if kind == "var":
            name = str(node.value)
            if name not in bound or name in self.unit_names:  # a unit read by another (`let`, `rec`) is a use
                # Under `with stdenv.lib.platforms;` a name is first looked up there: qualified by that namespace,
                # it names a package only where the namespace has no such member (`impact.gitchange.candidates`).
                scope = self.with_scopes[-1] if self.with_scopes else None
                self.facts.use(name, unit, self.how(node, parent), f"with:{scope}" if scope else None)
            return
        if kind == "path":
            if parent is not None and _is_to_string(parent) and id(parent) not in self.read_calls:
                return  # `toString ./x`: the path's text, no file read (a concatenation is read below)
            self.reference(str(node.value), _path_use(node, parent), unit, self.import_context.get(id(node), "value"))
            return
        if kind == "call" and _is_find_file(node):
            target = node.children[2].value if node.children[2].kind == "string" else None
            if isinstance(target, str) and (target == "nixpkgs" or target.startswith("nixpkgs/")):
                self.reference("." + target[len("nixpkgs") :], _path_use(node, parent), unit)
            return  # any other `<…>` is outside the tree: restricted evaluation refuses it, an error Nix reports
        if kind == "op" and node.value == "+":
            parts = _drop_empty_strings(node.children)
            base = _tree_base(parts[0]) if len(parts) > 1 else None
            if base is None and len(parts) > 1 and parts[0].kind == "var":
                base = self.path_names.get(str(parts[0].value))
            if base is not None:
                self.path_concat(base, parts[1:], unit)
                for c in node.children:
                    if c is not parts[0] or c.kind != "path":
                        self.walk(c, bound, under_with, unit, node)
                return
        if kind == "select" or kind == "hasattr":
            how = self.how(node, parent) if kind == "select" else "value"  # `x ? a`: a's presence is read
            path = node.value if isinstance(node.value, list) else []
            named_from = _namespace_start(node, path)
            qualifier = _qualifier(node.children[0]) if node.children else "?"
            if qualifier in self.parameters:
                qualifier = "?"  # a function's parameter (`ps: [ ps.foo ]`) may be any package set
            for i, component in enumerate(path):
                if isinstance(component, str) and i < named_from:
                    last = i == len(path) - 1
                    self.facts.use(component, unit, how if last else _component_use(path[i + 1]), qualifier)
                qualifier = component if isinstance(component, str) else "?"
            for c in _children(node):
                self.walk(c, bound, under_with, unit, node)
            return
        if kind == "call":
            self.call_args.update(id(a) for a in node.children[1:] if a.kind == "set")
            if _is_import(node.children[0]) or _is_reading(node.children[0]):
                self.read_calls.update(id(a) for a in node.children[1:] if _is_to_string(a))
        if kind == "call" and (_is_import(node.children[0]) or _is_reading(node.children[0])):
            arg = node.children[1] if len(node.children) > 1 else None
            if arg is not None and _from_text(arg):
                self.facts.dynamic.append((unit, "a file read through a path built from text"))
        if kind == "call" and _is_builtin(node.children[0], "readDir"):
            for arg in node.children[1:]:
                if arg.kind == "path":
                    self.reference(str(arg.value), "readdir", unit)
                else:
                    self.walk(arg, bound, under_with, unit, node)
            return
        if kind == "call" and _is_import(node.children[0]):
            arg = node.children[1] if len(node.children) > 1 else None
            if arg is not None:
                self.import_context[id(arg)] = self.how(node, parent)
        if kind == "lambda":
            names = {n for n, _ in node.formals} if node is not self.top else set()
            if node.value:
                names.add(str(node.value))
            self.parameters.update(names)
            inner = bound | names
            for _, default in node.formals:
                if default is not None:
                    self.walk(default, inner, under_with, unit, node)
            self.walk(node.children[0], inner, under_with, unit, node)
            return
        if kind == "let" or (kind == "set" and node.value is True):
            names = {n for n, _, _ in node.bindings if isinstance(n, str)}
            inner = bound | names
            if kind == "let":
                self.local_aliases(node)
            for key, value, inherited in node.bindings:
                if isinstance(key, Node):
                    self.walk(key, bound, under_with, unit, node)
                # `inherit x;` in a let or rec set reads x from outside, not from itself.
                self.walk(value, bound if inherited else inner, under_with, self.unit_of.get(id(value), unit), node)
            for c in node.children:
                self.walk(c, inner, under_with, unit, node)
            return
        if kind == "with":
            self.walk(node.children[0], bound, under_with, unit, node)
            self.with_scopes.append(_namespace_of(node.children[0]))
            try:
                self.walk(node.children[1], bound, True, unit, node)
            finally:
                self.with_scopes.pop()
            return
        for c in _children(node):
            self.walk(c, bound, under_with, self.unit_of.get(id(c), unit), node)

    def local_aliases(self, let: Node) -> None:
        """For each `let` binding that only renames a value from outside (`m = lib.maintainers;`, not a unit), the
        use of that value is the strongest use of the local name in the `let`'s scope."""
        for name, value, _ in let.bindings:
            if not isinstance(name, str) or id(value) in self.unit_of or not _is_alias(value):
                continue
            uses = [self.how(v, p) for v, p in _occurrences(let, name)]
            strongest = max(uses, key=USE_STRENGTH.__getitem__, default="plain")
            self.override_how[id(value)] = "value" if strongest == "alias" else strongest

    def path_concat(self, base: str, rest: list[Node], unit: str | None) -> None:
        """`./dir + "/x.nix"` (constant: that file) or `./dir + "/${x}.nix"` (anything under ./dir)."""
        suffix = ""
        for c in rest:
            if c.kind == "string":
                suffix += str(c.value)
            else:
                self.reference(base + suffix.rsplit("/", 1)[0] if "/" in suffix else base, "prefix", unit)
                return
        self.reference(base + suffix, "import", unit)


def _is_alias(value: Node) -> bool:
    """A name or a chain of named attributes (`foo`, `stdenv.lib.maintainers`): a value renamed, not computed."""
    if value.kind == "var":
        return True
    return (
        value.kind == "select"
        and len(value.children) == 1
        and isinstance(value.value, list)
        and all(isinstance(c, str) for c in value.value)
        and _is_alias(value.children[0])
    )


def _occurrences(let: Node, name: str) -> list[tuple[Node, Node]]:
    """(variable node, its parent) for each occurrence of `name` bound by `let`, where no inner scope rebinds it."""
    out: list[tuple[Node, Node]] = []
    stack: list[tuple[Node, Node]] = [(v, let) for _, v, inherited in let.bindings if not inherited]
    stack += [(c, let) for c in let.children]
    while stack:
        node, parent = stack.pop()
        if node.kind == "var" and node.value == name:
            out.append((node, parent))
            continue
        if node.kind == "lambda" and (node.value == name or any(n == name for n, _ in node.formals)):
            continue
        if (node.kind == "let" or (node.kind == "set" and node.value is True)) and any(
            n == name for n, _, _ in node.bindings
        ):
            continue
        stack.extend((c, node) for c in _children(node))
    return out


def _drop_empty_strings(nodes: list[Node]) -> list[Node]:
    """`"${x}/a"` prints as `("" + x + "/a")`: the empty string does not change the path."""
    return [c for c in nodes if not (c.kind == "string" and c.value == "")]


def _tree_base(node: Node) -> str | None:
    """The path a concatenation starts from: a path literal (`./x`, `toString ./x`), or nixpkgs' top for
    `pkgs.path` (`path = ../..` in all-packages.nix; also through `self`, `super`), `toString pkgs.path`."""
    if _is_to_string(node):
        return _tree_base(node.children[1])
    if node.kind == "path":
        return str(node.value)
    holder = node.children[0] if node.kind == "select" and node.value == ["path"] else None
    if holder is not None and holder.kind == "var" and holder.value in TREE_HOLDERS:
        return "."
    return None


#: Names whose members are not packages: NixOS options (`config.services.kodi`), nixpkgs' `lib` and its sets
#: (`stdenv.lib.platforms.linux`, `licenses.mit`), builtins. Selecting from them names no package.
NAMESPACES = frozenset({"config", "options", "lib", "licenses", "maintainers", "platforms", "systems", "builtins"})


def _namespace_of(scope: Node) -> str | None:
    """The namespace a `with` scope is (`lib`, `platforms` for `stdenv.lib.platforms`, `licenses`…), or None."""
    chain: list[str] = []
    node = scope
    while node.kind == "select" and isinstance(node.value, list) and node.children:
        chain = [c for c in node.value if isinstance(c, str)] + chain
        node = node.children[0]
    if node.kind != "var":
        return None
    names = [str(node.value), *chain]
    if names[0] in NAMESPACES and names[0] not in ("config", "options", "builtins"):
        return names[-1]
    if "lib" in names[:-1] or names[-1] == "lib":
        return names[-1]
    return None


def _qualifier(base: Node) -> str:
    """The name a select starts from: a variable's, the last component of a select, else `?`."""
    if base.kind == "var":
        return str(base.value)
    if base.kind == "select" and isinstance(base.value, list) and isinstance(base.value[-1], str):
        return base.value[-1]
    return "?"


def _namespace_start(node: Node, path: list[str | Node]) -> int:
    """Where a select's components stop naming packages: after a `lib` component, or from the first component when
    the chain starts at one of `NAMESPACES` (`(config).services.x` names options, never packages)."""
    base = node.children[0] if node.children else None
    while base is not None and base.kind == "select" and base.children:
        inner = base.value if isinstance(base.value, list) else []
        if any(isinstance(c, str) and c == "lib" for c in inner):
            return 0
        base = base.children[0]
    if base is not None and base.kind == "var" and base.value in NAMESPACES:
        return 0
    for i, c in enumerate(path):
        if c == "lib":
            return i + 1
    return len(path)


def _from_text(node: Node) -> bool:
    """A path made from a string that no path literal starts (`"/" + x`, `builtins.toPath s`): it may name any
    file, and no reference says which."""
    if node.kind == "string":
        return True
    if node.kind == "op" and node.value == "+":
        parts = _drop_empty_strings(node.children)
        return bool(parts) and parts[0].kind == "string"
    return node.kind == "call" and _function_name(node.children[0]) in ("toPath", "__toPath")


def _is_to_string(node: Node) -> bool:
    return (
        node.kind == "call"
        and len(node.children) == 2
        and node.children[0].kind == "var"
        and node.children[0].value == "toString"
    )


#: Builtins that read the file or directory they are given.
READING = frozenset(
    {
        "readFile",
        "readDir",
        "pathExists",
        "filterSource",
        "path",
        "hashFile",
        "importJSON",
        "importTOML",
        "cleanSource",
        "cleanSourceWith",
        "sourceByRegex",
        "fileContents",
    }
)


def _is_reading(node: Node) -> bool:
    return _function_name(node) in READING


def _is_find_file(node: Node) -> bool:
    c = node.children
    return len(c) == 3 and c[0].kind == "var" and c[0].value == "__findFile" and c[1].kind == "var"


def _is_builtin(node: Node, name: str) -> bool:
    if node.kind == "var":
        return node.value in (name, f"__{name}")
    return (
        node.kind == "select"
        and node.value == [name]
        and node.children[0].kind == "var"
        and node.children[0].value == "builtins"
    )


def _is_import(node: Node) -> bool:
    return node.kind == "var" and node.value in ("import", "callPackage", "callPackages")


def _path_use(node: Node, parent: Node | None) -> str:
    """A path as the argument of `import` (or `callPackage`) is imported; any other use is a value."""
    if parent is not None and parent.kind == "call" and _is_import(parent.children[0]) and parent.children[1] is node:
        return "import"
    return "value"


def _component_use(following: str | Node) -> str:
    if isinstance(following, str):
        return "plain" if following in OUTPUT_NAMES else "member"
    return "value"


def _how_used(
    node: Node, parent: Node | None, passing: frozenset[str] | set[str] = PASSING, in_call: bool = False
) -> str:
    """`plain` when the value only reaches a list, a string, a function that passes it there, or is passed on
    under its own name; `member` when named members are selected from it or it is a `with` scope; `value` for
    anything else (a call, `override` applied, `//`, …)."""
    if parent is None:
        return "value"
    kind = parent.kind
    if kind == "list":
        return "plain"
    if kind == "op" and parent.value == "+":
        return "plain"
    if (
        kind == "op"
        and parent.value in ("==", "!=")
        and any(c.kind == "var" and c.value == "null" for c in parent.children)
    ):
        return "plain"
    if kind == "select" and parent.children[0] is node:
        path = parent.value if isinstance(parent.value, list) else []
        return _component_use(path[0]) if path else "value"
    if kind == "hasattr" and parent.children[0] is node:
        return "member"
    if kind == "with" and parent.children[0] is node:
        return "member"
    if kind == "call" and parent.children[0] is not node:
        return "plain" if _function_name(parent.children[0]) in passing else "value"
    if kind == "set":
        # Passed on in a set: plain, unless the set is a call's argument and the name changes on the way
        # (`callPackage ./x { foo = bar; }`: x reads `foo`, a name the search for `bar` would not find).
        for name, value, _ in parent.bindings:
            if value is node:
                if in_call:  # `callPackage ./x { inherit foo; }`: x reads `foo`, analysed under that name
                    return "pass" if name == _value_name(node) else "value"
                return "alias"
    if kind == "let":
        return "alias"
    return "value"


def _function_name(fn: Node) -> str | None:
    if fn.kind == "var":
        return str(fn.value)
    if fn.kind == "select" and isinstance(fn.value, list) and isinstance(fn.value[-1], str):
        return fn.value[-1]
    return None


def _value_name(node: Node) -> str | None:
    """The name a value goes by: `bar` for `bar` and `pkgs.bar`."""
    return _function_name(node)


def file_facts(root: Node, min_bindings: int = SET_FILE_BINDINGS) -> FileFacts:
    """The facts of one file, parsed with its tree's top as `root` (paths relative to the top); a set of
    `min_bindings` bindings or more makes the file's units."""
    facts = FileFacts()
    walker = _Walker(facts)
    if root.kind == "lambda" and root.formals:
        walker.top = root
        facts.formals = tuple(n for n, _ in root.formals)
    units = package_set(root, min_bindings)
    if units is not None:
        walker.unit_of = units.unit_of()
        walker.unit_names = set(units.values)
        facts.units = tuple(units.values)
        for name, values in units.values.items():
            target = values[0] if len(values) == 1 else None
            if target is not None and _is_alias(target):
                renamed = _value_name(target)
                if renamed is not None:
                    facts.aliases[name] = renamed
        facts.units_top = units.top
        facts.local_units = units.local
    for node in _all_nodes(root):
        for key, value, _ in node.bindings if node.kind in ("let", "set") else ():
            if isinstance(key, str) and _function_name(value) in PASSING and value.kind in ("var", "select"):
                walker.passing.add(key)
            if isinstance(key, str) and node.kind == "let":
                base = _tree_base(value)
                if base is not None:
                    walker.path_names[key] = base
    walker.walk(
        root, frozenset({"builtins", "true", "false", "null", "import", "__findFile", "__nixPath"}), False, None, None
    )
    return facts
