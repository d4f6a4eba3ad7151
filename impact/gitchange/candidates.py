"""From changed files to candidate attributes: everything a diff can change directly, over-approximated.

A candidate is an attribute path of a jobset (`python37Packages.pyopencl` in `nixpkgs`, `tests.nghttpx` in
`nixos`) whose jobs are evaluated before and after the change. The search walks the reference index
(`impact.gitchange.index`) from the changed *units*:

- a changed file is one unit, except a package-set file (all-packages.nix, python-packages.nix, a `makeScope`
  set, all-tests.nix, … whose bindings the snapshot's jobs show as attributes), whose units are its bindings:
  `impact.gitchange.bindings` says which of them changed (text Nix parses differently, added, removed); a
  change Nix's parser does not see (comments, layout) changes nothing;
- a unit that changed makes every unit reading its file change (a path literal, `callPackage ./x`, a folder
  read whole or listed, a path completed at evaluation time), up to the bindings of package sets;
- a binding that changed is an attribute under each of its set's prefixes (`python27Packages`,
  `python37Packages` for python-packages.nix); every unit that uses its name other than plainly (`x.override`,
  `x.src`, `inherit (x) …`, a call, `with x;`) changes too. A plain use (`[ x ]`, `"${x}/bin"`, `x.dev`) is
  the graph's business: the consumer takes x's outputs, so it changes exactly when x's output paths do —
  unless x has no job, when its derivation cannot be told apart and the plain users are candidates too;
- jobs whose `meta.position` lies in a changed unit's file are candidates;
- NixOS: a test file is its test (`tests.<name>` through all-tests.nix); `nixos/lib/eval-config.nix`, which
  every NixOS module reaches through module-list.nix, and `nixos/release.nix` make every NixOS job a candidate.

The search is bounded: reaching `pkgs/top-level/release.nix` as a file (the nixpkgs jobset itself), or more
than `MAX_UNITS` units or `MAX_ATTRIBUTES` attributes, makes it unbounded, with the chain that got there.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from impact.gitchange.index import TreeIndex

#: The release file of the `nixpkgs` jobset: reaching it as a file means every job may change.
NIXPKGS_RELEASE = "pkgs/top-level/release.nix"
#: The release file of the `nixos` jobset.
NIXOS_RELEASE = "nixos/release.nix"
#: Where every NixOS system is evaluated; module-list.nix (every module) is read there.
NIXOS_EVAL_CONFIG = "nixos/lib/eval-config.nix"
#: The NixOS tests' package set: its binding names are tests, read by the NixOS release files only.
NIXOS_TESTS = "nixos/tests/all-tests.nix"
#: Files whose bindings are attributes under these prefixes, which the jobs cannot show: aliases.nix is an overlay of
#: the top-level package set (its names are attributes of `pkgs`; Hydra builds none of them), and the release files'
#: bindings are jobs themselves.
KNOWN_SETS: dict[str, list[tuple[str, ...]]] = {
    "pkgs/top-level/aliases.nix": [("nixpkgs",)],
    NIXPKGS_RELEASE: [("nixpkgs",)],
    NIXOS_RELEASE: [("nixos",)],
}
#: Files read only into `meta`, which `mkDerivation` does not pass to any derivation: a change of one of their
#: bindings changes what names it (found by the name) and nothing through the set that holds it (`lib.maintainers`).
META_ONLY = frozenset({"maintainers/maintainer-list.nix"})
#: Names a package set may be selected from in any file (`pkgs.foo`, `self.foo`, `ps.foo`), besides its own prefixes
#: and their aliases; `?` stands for an expression (`(import ./. { }).foo`), and any function's parameter counts as `?`.
GENERIC_QUALIFIERS = frozenset(
    {"?", "pkgs", "self", "super", "res", "final", "prev", "nixpkgs", "buildPackages", "targetPackages"}
    | {"pkgsi686Linux", "pkgsMusl", "pkgsStatic", "pkgsCross", "__splicedPackages", "pkgsBuildBuild", "pkgsBuildHost"}
    | {"pkgsBuildTarget", "pkgsHostHost", "pkgsHostTarget", "pkgsTargetTarget"}
)
#: Files whose bindings anyone may use by name alone (`with lib;`, `{ lib, … }:` then `lib.x`): nixpkgs' lib.
GLOBAL_PREFIXES = ("lib/",)
#: Beyond these, the search gives up and says so (a change read by nearly everything).
MAX_UNITS = 3000
MAX_ATTRIBUTES = 1500
#: A binding name shared by this many job attributes of one prefix makes that prefix one of its set's.
PREFIX_SHARE = 0.05


@dataclass(frozen=True, slots=True, order=True)
class Unit:
    """A file, or one binding of a package-set file."""

    file: str
    binding: str | None = None

    def __str__(self) -> str:
        return self.file if self.binding is None else f"{self.file}:{self.binding}"


@dataclass
class Candidates:
    """What the search found."""

    #: Jobset → attribute paths whose jobs are candidates; the empty path stands for every job of the jobset.
    attributes: dict[str, set[tuple[str, ...]]] = field(default_factory=lambda: defaultdict(set))
    #: (jobset, attr) of jobs whose meta.position lies in a changed file.
    jobs: set[tuple[str, str]] = field(default_factory=set)
    #: Why the search could not bound the change (empty: bounded).
    unbounded: list[str] = field(default_factory=list)
    #: Every unit reached → the unit that reached it (None for a changed unit).
    reached: dict[Unit, Unit | None] = field(default_factory=dict)
    #: Names used plainly by units that were not made candidates (the graph carries those changes).
    plain: Counter[str] = field(default_factory=Counter)
    #: Names whose plain users were followed (`search`'s `follow_plain`).
    followed: frozenset[str] = frozenset()

    def chain(self, unit: Unit) -> list[Unit]:
        """How `unit` was reached, from the changed unit to it."""
        out: list[Unit] = []
        u: Unit | None = unit
        while u is not None and len(out) < 50:
            out.append(u)
            u = self.reached.get(u)
        return out[::-1]


def split_attr(attr: str, system: str) -> tuple[str, ...]:
    """A job's attribute path without its system (`python37Packages.pyopencl.x86_64-linux` → both names)."""
    parts = attr.split(".")
    return tuple(parts[:-1]) if parts and parts[-1] == system else tuple(parts)


@dataclass(frozen=True)
class JobRecord:
    """What the search needs of one job of the snapshot."""

    jobset: str
    path: tuple[str, ...]
    attr: str
    position_file: str | None


def package_sets(index: TreeIndex, jobs: Sequence[JobRecord]) -> dict[str, list[tuple[str, ...]]]:
    """Package-set files → the prefixes (jobset first) under which their bindings are attributes.

    The evidence is the snapshot's jobs: a binding `b` of a set file that names a file or folder where jobs
    are defined (their meta.position), with `b` in those jobs' paths, puts the path before `b` forward; so
    do jobs defined in the set file itself; and, for prefixes below a jobset's top only, bindings whose names
    are attribute names of many jobs under one prefix (all-tests.nix: `tests`). A prefix counts when it holds
    at least `PREFIX_SHARE` of a file's evidence; a file with no prefix is not a package set.
    """
    under: dict[str, list[JobRecord]] = defaultdict(list)
    for j in jobs:
        if j.position_file:
            parts = j.position_file.split("/")
            for k in range(1, len(parts) + 1):
                under["/".join(parts[:k])].append(j)
    by_name: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for j in jobs:
        for i, name in enumerate(j.path):
            by_name[name].append((j.jobset, *j.path[:i]))
    evidence: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    for f, facts in index.facts.items():
        if not facts.units:
            continue
        units = set(facts.units)
        for r in facts.references:
            if r.unit is None or r.target.startswith("/"):
                continue
            for j in under.get(r.target, ()):
                if r.unit in j.path:
                    i = len(j.path) - 1 - j.path[::-1].index(r.unit)
                    evidence[f][(j.jobset, *j.path[:i])] += 1
        for j in under.get(f, ()):
            for i, name in enumerate(j.path):
                if name in units:
                    evidence[f][(j.jobset, *j.path[:i])] += 1
        named: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for u in units:
            for prefix in by_name.get(u, ()):
                if len(prefix) >= 2:
                    named[prefix].add(u)
        for prefix, names in named.items():
            if len(names) >= max(10, 0.3 * len(units)):
                evidence[f][prefix] += len(names)
    out: dict[str, list[tuple[str, ...]]] = {f: list(p) for f, p in KNOWN_SETS.items() if f in index.facts}
    for f, counts in evidence.items():
        total = sum(counts.values())
        kept = sorted(p for p, n in counts.items() if n >= 5 and n >= PREFIX_SHARE * total)
        if kept and f not in KNOWN_SETS:
            out[f] = kept
    return out


def search(
    index: TreeIndex,
    changed: Mapping[Unit, str],
    sets: Mapping[str, Sequence[tuple[str, ...]]],
    jobs: Sequence[JobRecord],
    follow_plain: frozenset[str] = frozenset(),
) -> Candidates:
    """The candidates of the changed units (unit → why it changed, for the explanation).

    The plain users of the bindings named in `follow_plain` are candidates too: their change is no longer the
    graph's to carry (the binding's jobs no longer evaluate, or it was re-pointed to a derivation that exists).

    A unit's change is *whole* (its value may differ in any way) or, for a unit holding an attribute set that is
    not a package set (lib, maintainer-list.nix), limited to some of the set's *members*: then only who uses the
    set wholesale (a call, `//`, a list) changes with it, while who selects members (`lib.maintainers.x`, `with
    lib.maintainers;`) is found by the members' names.
    """
    out = Candidates()
    positioned: dict[str, list[JobRecord]] = defaultdict(list)
    attributes_with_jobs: set[tuple[str, ...]] = set()
    for j in jobs:
        if j.position_file:
            positioned[j.position_file].append(j)
        for k in range(1, len(j.path) + 1):
            attributes_with_jobs.add((j.jobset, *j.path[:k]))
    search = _Search(index, sets, positioned, attributes_with_jobs, out)
    search.follow_plain = out.followed = follow_plain
    for u in sorted(changed):
        search.push(u, None, None)
    if changed:
        # A unit that reads a path built from text may read any file, the changed ones too.
        for file, facts in sorted(index.facts.items()):
            for unit, _ in facts.dynamic:
                search.push(search.unit_of(file, unit), None, None)
    search.run()
    return out


def _too_many(out: Candidates, unit: Unit, what: str) -> str:
    chain = out.chain(unit)
    return f"{chain[0].file}: {what} (e.g. {' → '.join(str(u) for u in chain[-4:])})"


class _Search:
    def __init__(
        self,
        index: TreeIndex,
        sets: Mapping[str, Sequence[tuple[str, ...]]],
        positioned: Mapping[str, list[JobRecord]],
        attributes_with_jobs: set[tuple[str, ...]],
        out: Candidates,
    ) -> None:
        self.index, self.sets, self.positioned, self.with_jobs, self.out = (
            index,
            sets,
            positioned,
            attributes_with_jobs,
            out,
        )
        self.work: list[tuple[Unit, frozenset[str] | None, Unit | None]] = []
        #: Unit → the members whose change was followed (None: the whole unit was).
        self.done: dict[Unit, set[str] | None] = {}
        #: Bindings whose plain users are followed too (`search`'s `follow_plain`).
        self.follow_plain: frozenset[str] = frozenset()
        #: Units counted against `MAX_UNITS` (NixOS files are free once every NixOS job is a candidate).
        self.counted = 0
        #: The files the jobsets' release files can read: no other file's change reaches a job.
        self.readable = index.reachable((NIXPKGS_RELEASE, NIXOS_RELEASE))
        self.qualifiers = _qualifiers(index, sets)
        #: Every binding of lib's files: a `with lib…;` scope has no other member.
        self.lib_names = frozenset(
            u for f, facts in index.facts.items() if f.startswith(GLOBAL_PREFIXES) for u in facts.units
        ) | frozenset(u for f in META_ONLY for u in (index.facts[f].units if f in index.facts else ()))

    def push(self, unit: Unit, members: frozenset[str] | None, came_from: Unit | None) -> None:
        if unit.file not in self.readable and came_from is not None:
            return  # no release file reads it (a script, another release file): no job reads it either
        if unit.file in (NIXPKGS_RELEASE, NIXOS_RELEASE):
            members = None
        seen = self.done.get(unit, set())
        if seen is None or (members is not None and members <= seen):
            return
        self.work.append((unit, members, came_from))

    def run(self) -> None:
        out = self.out
        while self.work:
            unit, members, came_from = self.work.pop(0)
            seen = self.done.get(unit, set())
            if seen is None:
                continue
            if members is not None:
                members = frozenset(members - seen)
                if not members:
                    continue
                self.done[unit] = seen | members
            else:
                self.done[unit] = None
            out.reached.setdefault(unit, came_from)
            if not unit.file.startswith("nixos/") or () not in out.attributes.get("nixos", ()):
                self.counted += 1
            if self.counted > MAX_UNITS:
                out.unbounded.append(_too_many(out, unit, f"more than {MAX_UNITS:,} files and bindings read it"))
                return
            if members is not None:
                self.members_changed(unit, members)
            elif unit.binding is None:
                self.file_changed(unit)
            else:
                self.binding_changed(unit)
            if out.unbounded:
                return
            count = sum(len(v) for v in out.attributes.values())
            if count > MAX_ATTRIBUTES:
                out.unbounded.append(_too_many(out, unit, f"more than {MAX_ATTRIBUTES:,} attributes read it"))
                return

    def unit_of(self, file: str, binding: str | None) -> Unit:
        """The unit a use or reference in `binding` of `file` belongs to: bindings count in files with units."""
        facts = self.index.facts.get(file)
        if binding is None or facts is None or not facts.units:
            return Unit(file)
        return Unit(file, binding)

    def file_changed(self, unit: Unit) -> None:
        out, f = self.out, unit.file
        if f == NIXPKGS_RELEASE:
            chain = " → ".join(str(u) for u in out.chain(unit))
            out.unbounded.append(
                f"{out.chain(unit)[0].file}: read by the nixpkgs jobset's release file itself ({chain})"
            )
            return
        if f in (NIXOS_RELEASE, NIXOS_EVAL_CONFIG):
            out.attributes["nixos"].add(())
            if f == NIXOS_RELEASE:
                return
        for j in self.positioned.get(f, ()):
            out.jobs.add((j.jobset, j.attr))
        for r in self.index.readers_of(f):
            self.push(self.unit_of(r.file, r.unit), None, unit)

    def binding_changed(self, unit: Unit) -> None:
        out, f, b = self.out, unit.file, unit.binding
        assert b is not None
        has_jobs = False
        # A `let` of a release file or all-tests.nix (`pkgsFor`, `handleTest`) is no job: what changes is every
        # binding of the file using it, found below.
        helper = f in (NIXOS_TESTS, NIXPKGS_RELEASE, NIXOS_RELEASE) and self.is_local(f, b)
        for prefix in () if helper else self.sets.get(f, ()):
            path = (*prefix, b)
            out.attributes[prefix[0]].add(path[1:])
            has_jobs = has_jobs or path in self.with_jobs
        for j in self.positioned.get(f, ()):
            if b in j.path:
                out.jobs.add((j.jobset, j.attr))
        if f in (NIXOS_TESTS, NIXPKGS_RELEASE, NIXOS_RELEASE) and not helper:
            return  # jobs and tests: their names are read by the release files alone, which make them jobs
        # Who sees a binding by its name: anyone for a package set (`callPackage` fills `{ b }` from it) and for
        # lib (`with lib;`); for any other file, the file itself: others reach the binding through the file's
        # value, followed below as a change of one of its members.
        everywhere = (f in self.sets or f.startswith(GLOBAL_PREFIXES)) and not self.is_local(f, b)
        qualifiers = self.qualifiers.get(f)
        for r in self.index.users.get(b, ()):
            if not everywhere and r.file != f:
                continue
            if qualifiers is not None and r.qualifier is not None and not self.may_name(r.qualifier, b, qualifiers):
                continue  # `platforms.linux`, `cfg.package`: selected from something no package set goes by
            if r.file in (NIXPKGS_RELEASE, NIXOS_RELEASE) and r.file != f:
                continue  # a release file naming the attribute makes it a job: already a candidate
            if r.how in ("plain", "pass") and has_jobs and b not in self.follow_plain:
                out.plain[b] += 1
                continue
            self.push(self.unit_of(r.file, r.unit), None, unit)
        if f not in self.sets and not self.is_local(f, b) and f not in META_ONLY:
            # The file's own value (a set: lib, a package's attributes) changed in this member.
            self.push(Unit(f), frozenset({b}), unit)

    def members_changed(self, unit: Unit, members: frozenset[str]) -> None:
        """A set changed in `members` only: the file's set (binding None) or one binding holding such a set."""
        f, b = unit.file, unit.binding
        if b is None:
            facts = self.index.facts.get(f)
            top = facts is not None and facts.units_top
            for r in self.index.readers_of(f):
                holder = self.unit_of(r.file, r.unit)
                if top and r.how == "import" and r.context == "member":
                    # `with (import ./f.nix);`, `(import ./f.nix).x`: the unit changes if it reads a changed member
                    if self.reads_member(r.file, r.unit, members, "?"):
                        self.push(holder, None, unit)
                    continue
                aliased = r.how == "import" and r.context == "alias" and holder.binding is not None
                self.push(holder, members if top and aliased and r.file not in self.sets else None, unit)
            return
        local = self.is_local(f, b)
        everywhere = (f in self.sets or f.startswith(GLOBAL_PREFIXES)) and not local
        for r in self.index.users.get(b, ()):
            if r.file in (NIXPKGS_RELEASE, NIXOS_RELEASE) or r.how == "pass" or (not everywhere and r.file != f):
                continue  # a callee given the set reads it under its name, found as such
            holder = self.unit_of(r.file, r.unit)
            if r.how == "member":
                # `b.x`, `with b;`: the unit changes if it reads one of the changed members
                if self.reads_member(r.file, r.unit, members, b):
                    self.push(holder, None, unit)
                continue
            # Bound to another name (`maintainers = lib.maintainers;`), the set changes there in the same members.
            self.push(holder, members if r.how == "alias" and holder.binding is not None else None, unit)
        if f not in self.sets and not local:
            self.push(Unit(f), frozenset({b}), unit)

    def reads_member(self, file: str, unit: str | None, members: frozenset[str], holder: str) -> bool:
        """Whether `unit` of `file` uses one of `members`: selected from `holder` (or from an expression, `?`), or
        on its own (under a `with`)."""
        facts = self.index.facts.get(file)
        if facts is None:
            return True
        for m in members:
            if unit in facts.uses.get(m, {}):
                return True
            qualified = facts.qualified.get(m, {})
            if any(unit in qualified.get(q, {}) for q in (holder, "?")):
                return True
        return False

    def may_name(self, qualifier: str, name: str, qualifiers: frozenset[str]) -> bool:
        """Whether a use of `name` with `qualifier` may be a package set's binding: selected from one of the set's
        names, or free under a `with` of a lib namespace that has no member `name` (Nix looks there first)."""
        if qualifier.startswith("with:"):
            return name not in self.lib_names
        return qualifier in qualifiers

    def is_local(self, file: str, binding: str) -> bool:
        """Whether `binding` is bound by a `let` of `file` only (not a member of the file's set)."""
        facts = self.index.facts.get(file)
        return facts is not None and binding in facts.local_units


def _qualifiers(index: TreeIndex, sets: Mapping[str, Sequence[tuple[str, ...]]]) -> dict[str, frozenset[str]]:
    """Package-set file → the names its bindings may be selected from: `GENERIC_QUALIFIERS`, the last name of
    each of its prefixes (`python37Packages`), and the bindings anywhere that rename one of those
    (`perlPackages = perl528Packages;`), to a fixed point."""
    renames: dict[str, set[str]] = defaultdict(set)  # target → names renaming it
    for facts in index.facts.values():
        for name, target in facts.aliases.items():
            renames[target].add(name)
    out: dict[str, frozenset[str]] = {}
    for f, prefixes in sets.items():
        names = {p[-1] for p in prefixes if len(p) > 1}
        todo = list(names)
        while todo:
            for alias in renames.get(todo.pop(), ()):
                if alias not in names:
                    names.add(alias)
                    todo.append(alias)
        out[f] = frozenset(names) | GENERIC_QUALIFIERS
    return out


def changed_attributes(candidates: Candidates) -> Iterable[tuple[str, tuple[str, ...]]]:
    """(jobset, attribute path) of every candidate attribute, sorted."""
    for jobset in sorted(candidates.attributes):
        for path in sorted(candidates.attributes[jobset]):
            yield jobset, path
