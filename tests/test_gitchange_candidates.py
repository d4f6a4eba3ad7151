"""`impact.gitchange.candidates`: from changed units to candidate attributes, walked over a hand-made reference
index of a small nixpkgs-like tree (the facts a parsed tree would give, written out), without Nix."""

from __future__ import annotations

import pytest

from impact.gitchange import candidates
from impact.gitchange.candidates import Candidates, JobRecord, Unit, package_sets, search, split_attr
from impact.gitchange.facts import FileFacts, Reference
from impact.gitchange.index import TreeIndex

ALL = "pkgs/top-level/all-packages.nix"
PYTHON = "pkgs/top-level/python-packages.nix"
TESTS = "nixos/tests/all-tests.nix"
SYSTEMS = ("x86_64-linux", "aarch64-linux")


def file(
    units: tuple[str, ...] = (),
    refs: tuple[tuple[str, str, str | None], ...] = (),
    uses: dict[str, dict[str | None, str]] | None = None,
    local: frozenset[str] = frozenset(),
    formals: tuple[str, ...] = (),
) -> FileFacts:
    f = FileFacts(units=units, units_top=bool(units), local_units=local, formals=formals)
    f.references = [Reference(target, how, unit) for target, how, unit in refs]
    f.uses = uses or {}
    return f


PACKAGES = ("hello", "libfoo", "bar", "foo", "dyn", "orphanuser")
INDEX = TreeIndex(
    facts={
        "default.nix": file(refs=(("pkgs/top-level", "import", None),)),
        "pkgs/top-level/default.nix": file(refs=((ALL, "import", None),)),
        "pkgs/top-level/release.nix": file(refs=((".", "import", None),)),
        ALL: file(
            units=(*PACKAGES, "fooWithX", "helper", "orphan", "pyPackages"),
            refs=(
                *((f"pkgs/{p}", "import", p) for p in PACKAGES),
                ("pkgs/orphan", "import", "orphan"),
                (PYTHON, "import", "pyPackages"),
            ),
            uses={
                "foo": {"fooWithX": "member"},  # fooWithX = foo.override { … }
                "helper": {"dyn": "value"},  # dyn = helper (callPackage ./dyn { })
                "callPackage": dict.fromkeys(PACKAGES, "value"),
            },
            local=frozenset({"helper"}),  # let helper = …; in
        ),
        "pkgs/hello/default.nix": file(refs=(("pkgs/hello/fix.patch", "value", None),), formals=("stdenv",)),
        "pkgs/libfoo/default.nix": file(formals=("stdenv",)),
        "pkgs/bar/default.nix": file(uses={"libfoo": {None: "plain"}}, formals=("stdenv", "libfoo")),
        "pkgs/foo/default.nix": file(formals=("stdenv", "withX")),
        "pkgs/dyn/default.nix": file(refs=(("pkgs/dyn/data", "prefix", None),)),
        "pkgs/orphan/default.nix": file(),
        "pkgs/orphanuser/default.nix": file(uses={"orphan": {None: "plain"}, "helper": {None: "value"}}),
        PYTHON: file(
            units=("six", "requests"),
            refs=(("pkgs/python/requests", "import", "requests"),),
            uses={"six": {"requests": "plain"}},
        ),
        "pkgs/python/requests/default.nix": file(),
        "nixos/release.nix": file(
            units=("tests", "nixos-version"),
            refs=(
                (TESTS, "import", "tests"),
                ("nixos/lib/eval-config.nix", "import", "closures"),
                (".", "value", None),
            ),
        ),
        "nixos/lib/eval-config.nix": file(refs=(("nixos/modules/module-list.nix", "import", None),)),
        "nixos/modules/module-list.nix": file(refs=(("nixos/modules/services/foo.nix", "value", None),)),
        "nixos/modules/services/foo.nix": file(),
        TESTS: file(units=("foo-test", "bar-test"), refs=(("nixos/tests/foo-test.nix", "value", "foo-test"),)),
        "nixos/tests/foo-test.nix": file(refs=(("nixos/tests/make-test.nix", "import", None),)),
        "nixos/tests/make-test.nix": file(refs=(("nixos/lib/testing.nix", "import", None),)),
        "nixos/lib/testing.nix": file(refs=(("nixos/lib/eval-config.nix", "import", None),)),
    },
    files=frozenset({"doc/manual.md", "pkgs/hello/fix.patch", "pkgs/dyn/data/a.nix"}),
)


def jobs_of(jobset: str, attr: str, position: str | None, systems: tuple[str, ...] = SYSTEMS) -> list[JobRecord]:
    return [JobRecord(jobset, split_attr(f"{attr}.{s}", s), f"{attr}.{s}", position) for s in systems]


JOBS = [
    *jobs_of("nixpkgs", "hello", "pkgs/hello/default.nix"),
    *jobs_of("nixpkgs", "libfoo", "pkgs/libfoo/default.nix"),
    *jobs_of("nixpkgs", "bar", "pkgs/bar/default.nix"),
    *jobs_of("nixpkgs", "foo", "pkgs/foo/default.nix"),
    *jobs_of("nixpkgs", "fooWithX", "pkgs/foo/default.nix"),
    *jobs_of("nixpkgs", "dyn", "pkgs/dyn/default.nix"),
    *jobs_of("nixpkgs", "orphanuser", "pkgs/orphanuser/default.nix"),
    *jobs_of("nixpkgs", "pyPackages.six", PYTHON),
    *jobs_of("nixpkgs", "pyPackages.requests", "pkgs/python/requests/default.nix"),
    *jobs_of("nixos", "tests.foo-test", None, SYSTEMS[:1]),
    *jobs_of("nixos", "tests.bar-test", None, SYSTEMS[:1]),
    *jobs_of("nixos", "nixos-version", None, SYSTEMS[:1]),
]
SETS = {
    ALL: [("nixpkgs",)],
    PYTHON: [("nixpkgs", "pyPackages")],
    TESTS: [("nixos", "tests")],
    **candidates.KNOWN_SETS,
}


def find(*units: Unit) -> Candidates:
    return search(INDEX, dict.fromkeys(units, "changed"), SETS, JOBS)


def attributes(c: Candidates) -> dict[str, set[tuple[str, ...]]]:
    return {js: paths for js, paths in c.attributes.items() if paths}


def both(attr: str) -> set[tuple[str, str]]:
    return {("nixpkgs", f"{attr}.{s}") for s in SYSTEMS}


def test_split_attr() -> None:
    assert split_attr("pyPackages.six.x86_64-linux", "x86_64-linux") == ("pyPackages", "six")
    assert split_attr("tarball", "x86_64-linux") == ("tarball",)


def test_leaf_edit_is_its_binding_and_its_jobs() -> None:
    c = find(Unit("pkgs/hello/default.nix"))
    assert attributes(c) == {"nixpkgs": {("hello",)}}
    assert c.jobs == both("hello")
    assert c.unbounded == []


def test_patch_reaches_the_binding_through_the_package_file() -> None:
    c = find(Unit("pkgs/hello/fix.patch"))
    assert attributes(c) == {"nixpkgs": {("hello",)}}
    assert c.chain(Unit(ALL, "hello")) == [
        Unit("pkgs/hello/fix.patch"),
        Unit("pkgs/hello/default.nix"),
        Unit(ALL, "hello"),
    ]


def test_changed_binding_reaches_who_uses_it_other_than_plainly() -> None:
    c = find(Unit(ALL, "foo"))
    assert attributes(c) == {"nixpkgs": {("foo",), ("fooWithX",)}}
    assert c.jobs == set()  # foo's own file did not change


def test_plain_users_of_a_binding_with_jobs_are_left_to_the_graph() -> None:
    c = find(Unit("pkgs/libfoo/default.nix"))
    assert attributes(c) == {"nixpkgs": {("libfoo",)}}
    assert c.plain == {"libfoo": 1}


def test_plain_users_of_a_binding_without_jobs_are_candidates() -> None:
    c = find(Unit("pkgs/orphan/default.nix"))
    assert attributes(c) == {"nixpkgs": {("orphan",), ("orphanuser",)}}
    assert c.plain == {}


def test_binding_of_the_second_package_set_is_under_its_prefix() -> None:
    c = find(Unit(PYTHON, "six"))
    assert attributes(c) == {"nixpkgs": {("pyPackages", "six")}}
    assert c.jobs == both("pyPackages.six")  # defined in the set file itself
    c = find(Unit("pkgs/python/requests/default.nix"))
    assert attributes(c) == {"nixpkgs": {("pyPackages", "requests")}}


def test_local_binding_reaches_its_own_file_only() -> None:
    c = find(Unit(ALL, "helper"))
    assert attributes(c) == {"nixpkgs": {("helper",), ("dyn",)}}
    assert Unit("pkgs/orphanuser/default.nix") not in c.reached


def test_file_under_a_computed_prefix_reaches_the_prefix_reader() -> None:
    c = find(Unit("pkgs/dyn/data/a.nix"))
    assert attributes(c) == {"nixpkgs": {("dyn",)}}


def test_nixos_module_makes_every_nixos_job_a_candidate() -> None:
    c = find(Unit("nixos/modules/services/foo.nix"))
    assert set(attributes(c)) == {"nixos"}
    assert () in c.attributes["nixos"]  # the empty path: every job of the jobset
    assert c.unbounded == []


def test_nixos_test_is_its_test() -> None:
    c = find(Unit("nixos/tests/foo-test.nix"))
    assert attributes(c) == {"nixos": {("tests", "foo-test")}}


def test_nixos_test_driver_reaches_the_tests_that_read_it() -> None:
    c = find(Unit("nixos/lib/testing.nix"))
    assert attributes(c) == {"nixos": {("tests", "foo-test")}}
    assert c.chain(Unit(TESTS, "foo-test"))[1:3] == [
        Unit("nixos/tests/make-test.nix"),
        Unit("nixos/tests/foo-test.nix"),
    ]


def test_file_nobody_reads_has_no_candidate() -> None:
    c = find(Unit("doc/manual.md"))
    assert attributes(c) == {} and c.jobs == set() and c.unbounded == []
    assert c.reached == {Unit("doc/manual.md"): None}


def test_reaching_the_release_file_is_unbounded_with_the_chain() -> None:
    c = find(Unit(ALL))
    (reason,) = c.unbounded
    assert reason.startswith(f"{ALL}: read by the nixpkgs jobset's release file itself")
    assert f"{ALL} → pkgs/top-level/default.nix → default.nix → pkgs/top-level/release.nix" in reason


def test_a_binding_of_a_release_file_is_bounded() -> None:
    c = find(Unit("pkgs/top-level/release.nix", "hello"))
    assert attributes(c) == {"nixpkgs": {("hello",)}}
    assert c.unbounded == []
    c = find(Unit("nixos/release.nix", "tests"))
    assert attributes(c) == {"nixos": {("tests",)}}


def test_a_let_of_a_release_file_or_the_tests_is_every_binding_using_it() -> None:
    """`pkgsFor` in release.nix, `handleTest` in all-tests.nix are no jobs: the jobs built with them change."""
    facts = dict(INDEX.facts)
    facts["pkgs/top-level/release.nix"] = file(
        units=("hello", "bar", "pkgsFor", "forAll"),
        refs=((".", "import", "pkgsFor"),),
        uses={"pkgsFor": {"forAll": "call"}, "forAll": {"hello": "call", "bar": "call"}},
        local=frozenset({"pkgsFor", "forAll"}),
    )
    facts[TESTS] = file(
        units=("foo-test", "bar-test", "handleTest"),
        uses={"handleTest": {"foo-test": "call", "bar-test": "call"}},
        local=frozenset({"handleTest"}),
    )
    index = TreeIndex(facts=facts, files=INDEX.files)
    c = search(index, {Unit("pkgs/top-level/release.nix", "pkgsFor"): "changed"}, SETS, JOBS)
    assert attributes(c) == {"nixpkgs": {("hello",), ("bar",)}} and c.unbounded == []
    c = search(index, {Unit(TESTS, "handleTest"): "changed"}, SETS, JOBS)
    assert attributes(c) == {"nixos": {("tests", "foo-test"), ("tests", "bar-test")}}


def test_a_change_no_bound_can_hold_is_unbounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candidates, "MAX_UNITS", 2)
    c = find(Unit("pkgs/hello/fix.patch"))
    assert c.unbounded == [
        "pkgs/hello/fix.patch: more than 2 files and bindings read it (e.g. pkgs/hello/fix.patch →"
        f" pkgs/hello/default.nix → {ALL}:hello)"
    ]
    monkeypatch.setattr(candidates, "MAX_UNITS", 3000)
    monkeypatch.setattr(candidates, "MAX_ATTRIBUTES", 1)
    c = find(Unit(ALL, "foo"))
    assert len(c.unbounded) == 1 and "more than 1 attributes read it" in c.unbounded[0]


def test_several_units_at_once() -> None:
    c = find(Unit("pkgs/hello/default.nix"), Unit(PYTHON, "six"), Unit("nixos/tests/foo-test.nix"))
    assert attributes(c) == {"nixpkgs": {("hello",), ("pyPackages", "six")}, "nixos": {("tests", "foo-test")}}


# -- package_sets ---------------------------------------------------------------------------------------------


def test_package_sets_from_the_jobs() -> None:
    names = [f"p{i}" for i in range(6)]
    index = TreeIndex(
        facts={
            ALL: file(units=tuple(names), refs=tuple((f"pkgs/{n}", "import", n) for n in names)),
            PYTHON: file(units=tuple(names), refs=tuple((f"pkgs/py/{n}", "import", n) for n in names)),
            TESTS: file(units=tuple(f"t{i}" for i in range(12))),
            "pkgs/top-level/release.nix": file(),
            "pkgs/other.nix": file(units=("x", "y"), refs=(("pkgs/nothing", "import", "x"),)),
        }
    )
    jobs = [
        *(j for n in names for j in jobs_of("nixpkgs", n, f"pkgs/{n}/default.nix", SYSTEMS[:1])),
        *(j for n in names for j in jobs_of("nixpkgs", f"pyPackages.{n}", f"pkgs/py/{n}/default.nix", SYSTEMS[:1])),
        *(j for i in range(12) for j in jobs_of("nixos", f"tests.t{i}", None, SYSTEMS[:1])),
    ]
    assert package_sets(index, jobs) == {
        "pkgs/top-level/release.nix": [("nixpkgs",)],
        ALL: [("nixpkgs",)],
        PYTHON: [("nixpkgs", "pyPackages")],
        TESTS: [("nixos", "tests")],
    }
