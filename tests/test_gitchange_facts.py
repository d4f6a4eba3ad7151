"""`impact.gitchange.facts`: what one file reads (references, uses, dynamic paths, units), from Nix's printed forms
(tests/gitchange_forms.py), without Nix."""

from __future__ import annotations

from pathlib import Path

import pytest

from impact.gitchange.facts import (
    SET_FILE_BINDINGS,
    FileFacts,
    Reference,
    file_facts,
    fingerprint,
    min_bindings_of,
    package_set,
)
from impact.gitchange.index import facts_of_text
from impact.gitchange.syntax import parse
from tests.gitchange_forms import ROOT, printed


def facts(name: str) -> FileFacts:
    return file_facts(parse(printed(name), ROOT))


def refs(f: FileFacts) -> set[tuple[str, str]]:
    return {(r.target, r.how) for r in f.references}


def uses(f: FileFacts, unit: str | None = None) -> dict[str, str]:
    """name → how, in `unit`: used on its own, or selected from something (the strongest of both)."""
    from impact.gitchange.facts import USE_STRENGTH

    out = {name: per[unit] for name, per in f.uses.items() if unit in per}
    for name, qualifiers in f.qualified.items():
        for per in qualifiers.values():
            if unit in per and USE_STRENGTH[per[unit]] > USE_STRENGTH.get(out.get(name, ""), -1):
                out[name] = per[unit]
    return out


# -- references -----------------------------------------------------------------------------------------------


def test_to_string_of_a_path_is_not_a_read() -> None:
    assert facts("to_string").references == []


def test_to_string_of_a_path_imported_is_a_read() -> None:
    assert refs(facts("import_to_string")) == {("pkgs/x", "value")}


def test_path_with_computed_suffix_is_a_prefix() -> None:
    assert facts("prefix").references == [Reference("pkgs/dir", "prefix", None)]


def test_constant_suffix_names_the_file() -> None:
    text = '(/r/pkgs/dir + "/a.nix")'
    assert refs(file_facts(parse(text, ROOT))) == {("pkgs/dir/a.nix", "import")}


def test_pkgs_path_is_the_tree_top() -> None:
    assert refs(facts("tree_path")) == {("nixos/lib/eval-config.nix", "import")}
    for holder in ("self", "super", "final", "prev"):
        text = f'({holder}: (import (({holder}).path + "/nixos")))'
        assert refs(file_facts(parse(text, ROOT))) == {("nixos", "import")}, holder
    assert file_facts(parse('(x: (import ((x).path + "/nixos")))', ROOT)).references == []


def test_name_bound_to_a_path_is_followed() -> None:
    assert refs(facts("let_path_name")) == {("nixos/lib", "import")}


def test_path_literals_search_path_and_absolute_paths() -> None:
    f = facts("paths")
    assert refs(f) == {
        ("pkgs/foo", "value"),
        ("lib/default.nix", "value"),
        ("/abs/path", "value"),
        ("lib", "value"),  # <nixpkgs/lib>
        ("pkgs", "value"),
        (".", "value"),
    }
    assert f.dynamic == []  # `<other>` is outside the tree: restricted evaluation refuses it, an error Nix reports


def test_call_package_and_import_are_imports() -> None:
    f = facts("callpackage")
    assert refs(f) == {("pkgs/x", "import"), ("pkgs/y", "import")}


def test_read_dir_of_a_literal_lists_it_and_computed_paths_are_dynamic() -> None:
    f = facts("computed")
    assert refs(f) == {("pkgs", "readdir")}
    # A path held by a variable was written as a literal where it was made; a path made from text was not.
    assert f.dynamic == [(None, "a file read through a path built from text")]


def test_import_of_a_path_computed_by_a_call_is_dynamic() -> None:
    f = file_facts(parse('(x: (import ((builtins).toPath ("/" + x))))', ROOT))
    assert f.dynamic == [(None, "a file read through a path built from text")]


def test_paths_inside_a_package_set_belong_to_their_binding() -> None:
    f = facts("set_base")
    by_unit = {r.unit: (r.target, r.how, r.context) for r in f.references}
    assert by_unit["p3"] == ("pkgs/p3", "import", "alias")
    assert len(f.references) == 20


# -- uses -----------------------------------------------------------------------------------------------------


def test_plain_uses_only_reach_lists_strings_outputs_and_passing_functions() -> None:
    u = uses(facts("package"))
    assert {n: u[n] for n in ("libfoo", "curl", "zlib", "foo", "withX", "bar")} == dict.fromkeys(
        ("libfoo", "curl", "zlib", "foo", "withX", "bar"), "plain"
    )
    assert u["stdenv"] == "member" and u["lib"] == "member"
    assert u["mkDerivation"] == "value"


def test_pass_value_and_member_uses_in_call_package_arguments() -> None:
    u = uses(facts("callpackage"))
    assert u["foo"] == "pass"  # `callPackage ./x { inherit foo; }`: x reads `foo` under its own name
    assert u["bar"] == "value"  # `callPackage ./y { foo = bar; }`: y reads it as `foo`
    assert u["baz"] == "member" and u["override"] == "value"  # `baz.override { … }`


def test_member_and_value_uses() -> None:
    u = uses(facts("member_and_value"))
    assert u["lib"] == "member"  # `with lib;`, `lib.optional`
    assert u["f"] == "value" and u["foo"] == "value"  # a call and its argument
    assert u["bar"] == "value"  # `bar // { }`
    assert u["baz"] == "member" and u["src"] == "plain"  # `baz.src` in a list
    assert u["qux"] == "member" and u["a"] == "value"  # `qux ? a`
    assert u["m"] == "member" and u["maintainers"] == "member"  # `let n = m.maintainers; in n.alice`


def test_alias_and_member_uses_in_a_package_set() -> None:
    f = facts("set_base")
    assert f.uses["p1"] == {"alias": "alias"}  # `alias = p1;`
    assert f.uses["p4"] == {"override": "member"}  # `p4.override { … }`
    assert f.uses["p2"] == {"used": "value"}  # `helper p2`
    assert set(f.uses["callPackage"]) == {f"p{i}" for i in range(20)}


def test_names_bound_in_the_file_are_not_uses() -> None:
    f = file_facts(parse("(x: (let y = 1; in { w = ((a: a) x); z = y; }))", ROOT))
    assert f.uses == {}


def test_local_unit_used_by_a_binding_is_a_use_of_that_binding() -> None:
    f = facts("set_base")
    assert "helper" in f.local_units
    assert f.uses.get("helper") == {"used": "value"}


def test_rec_set_sibling_is_a_use() -> None:
    bindings = " ".join(f"p{i} = {i};" for i in range(19))
    f = file_facts(parse(f"rec {{ {bindings} p19 = ((p0).override {{ }}); }}", ROOT))
    assert len(f.units) == 20
    assert f.uses.get("p0") == {"p19": "member"}


def test_formals_of_the_file_function() -> None:
    assert facts("package").formals == ("stdenv", "libfoo", "curl", "lib", "withX", "foo", "zlib", "bar")
    assert facts("update").formals == ()


def test_the_strongest_use_is_kept() -> None:
    f = FileFacts()
    f.use("x", None, "plain")
    f.use("x", None, "value")
    f.use("x", None, "member")
    f.use("x", "u", "pass")
    assert f.uses == {"x": {None: "value", "u": "pass"}}


# -- units ----------------------------------------------------------------------------------------------------


def test_package_set_units() -> None:
    f = facts("set_base")
    assert set(f.units) == {f"p{i}" for i in range(20)} | {"alias", "used", "override", "helper"}
    assert f.units_top is True
    assert f.local_units == frozenset({"helper"})


def test_small_sets_are_no_package_set_but_release_files_are() -> None:
    assert facts("set_small").units == ()
    assert package_set(parse(printed("set_small"), ROOT)) is None
    assert min_bindings_of("pkgs/top-level/release.nix") == 1
    assert min_bindings_of("nixos/release.nix") == 1
    assert min_bindings_of("pkgs/top-level/all-packages.nix") == SET_FILE_BINDINGS
    units = package_set(parse(printed("set_small"), ROOT), min_bindings_of("nixos/release.nix"))
    assert units is not None and set(units.values) == {"p0", "p1", "alias", "helper"}


def test_set_deeper_than_the_file_value_is_not_top() -> None:
    bindings = " ".join(f"p{i} = {i};" for i in range(20))
    units = package_set(parse(f"{{ options = {{ x = {{ {bindings} }}; }}; }}", ROOT))
    assert units is not None and units.top is False


def test_text_the_grammar_does_not_know_is_read_coarsely() -> None:
    f = facts_of_text("({ a }: (/r/pkgs/x # not printed by Nix", ROOT)
    assert Reference("pkgs/x", "value", None) in f.references
    assert f.uses["a"] == {None: "value"}
    assert any("not read in detail" in why for _, why in f.dynamic)


# -- fingerprints ---------------------------------------------------------------------------------------------


def test_fingerprint_ignores_layout_and_sees_values() -> None:
    assert printed("set_base") == printed("set_comments")
    assert fingerprint(parse(printed("set_base"), ROOT)) != fingerprint(parse(printed("set_one_binding"), ROOT))
    assert fingerprint(parse('{ a = "1"; }')) != fingerprint(parse("{ a = 1; }"))


def test_fingerprint_does_not_depend_on_the_order_of_formals() -> None:
    assert fingerprint(parse("({ lib, stdenv }: lib)")) == fingerprint(parse("({ stdenv, lib }: lib)"))


def test_the_cached_index_keeps_its_own_version_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index written by an earlier FACTS_VERSION is never read again: writing one removes it."""
    from impact.gitchange import index

    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path))
    folder = index.cache_folder()
    assert folder is not None
    folder.mkdir(parents=True)
    stale = folder / f"nixfacts-v{index.FACTS_VERSION - 1}-0123456789abcdef.json.gz"
    stale.write_bytes(b"old")
    index.store_cached("fedcba9876543210" * 2, {"a.nix": ("0" * 40, None, "does not parse")})
    assert [p.name for p in folder.iterdir()] == [f"nixfacts-v{index.FACTS_VERSION}-fedcba9876543210.json.gz"]
    assert index.load_cached({"a.nix": "0" * 40}) == {"a.nix": (None, "does not parse")}
