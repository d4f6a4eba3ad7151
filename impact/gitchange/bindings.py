"""Which units of a changed Nix file changed: the binding diff of package-set files.

Both versions of the file are parsed by Nix (`nix-instantiate --parse`) and compared as Nix reads them, so a
change of comments or layout is no change at all. For a package-set file (one the snapshot's jobs show as a
set of attributes), each binding is compared on its own: the units that changed are the bindings whose
expression differs, and those added or removed. When anything else in the file differs (its frame: the
function's arguments, a `let` holding the set, the fixed point), the whole file is the unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from impact.gitchange.candidates import Unit
from impact.gitchange.facts import fingerprint, min_bindings_of, package_set
from impact.gitchange.syntax import Node, float_literals


@dataclass(frozen=True)
class FileChange:
    """How one changed `.nix` file changed."""

    #: The units that changed; empty when Nix reads both versions the same way.
    units: tuple[Unit, ...]
    #: Why, in a few words (`bindings foo, bar changed`, `the frame changed`, `comments or layout only`).
    why: str


def diff_file(path: str, base: Node, head: Node, base_text: str = "", head_text: str = "") -> FileChange:
    """The units of `path` that changed between its parsed `base` and `head` versions: bindings, when the file
    is a set of at least `facts.SET_FILE_BINDINGS` bindings on both sides and nothing else in it changed.

    `base_text` and `head_text` are the sources: Nix's printer rounds floats, so a float that changed between
    them makes the whole file the unit."""
    if float_literals(base_text) != float_literals(head_text):
        return FileChange((Unit(path),), "a number changed that Nix's printer rounds (a float): the whole file")
    if fingerprint(base) == fingerprint(head):
        return FileChange((), "comments or layout only: Nix reads both versions the same way")
    base_units, head_units = package_set(base, min_bindings_of(path)), package_set(head, min_bindings_of(path))
    if base_units is None or head_units is None or base_units.top != head_units.top:
        return FileChange((Unit(path),), "changed")
    base_hidden = frozenset(id(v) for vs in base_units.values.values() for v in vs)
    head_hidden = frozenset(id(v) for vs in head_units.values.values() for v in vs)
    if fingerprint(base, base_hidden) != fingerprint(head, head_hidden):
        return FileChange((Unit(path),), "changed outside its bindings")
    names = sorted(
        n
        for n in base_units.values.keys() | head_units.values.keys()
        if [fingerprint(v) for v in base_units.values.get(n, [])]
        != [fingerprint(v) for v in head_units.values.get(n, [])]
    )
    if not names:
        return FileChange((), "only the order of its bindings changed")
    added = [n for n in names if n not in base_units.values]
    removed = [n for n in names if n not in head_units.values]
    parts = [f"{len(names)} binding{'s' if len(names) != 1 else ''} changed"]
    if added:
        parts.append(f"added: {', '.join(added[:5])}{' …' if len(added) > 5 else ''}")
    if removed:
        parts.append(f"removed: {', '.join(removed[:5])}{' …' if len(removed) > 5 else ''}")
    return FileChange(tuple(Unit(path, n) for n in names), "; ".join(parts))
