"""`impact.gitchange.bindings.diff_file`: which units of a changed Nix file changed, from Nix's printed forms of
both versions (tests/gitchange_forms.py), without Nix."""

from __future__ import annotations

import pytest

from impact.gitchange.bindings import diff_file
from impact.gitchange.candidates import Unit
from impact.gitchange.syntax import parse
from tests.gitchange_forms import ROOT, printed

SET_FILE = "pkgs/top-level/all-packages.nix"


def diff(base: str, head: str, path: str = SET_FILE) -> tuple[tuple[Unit, ...], str]:
    change = diff_file(path, parse(printed(base), ROOT), parse(printed(head), ROOT))
    return change.units, change.why


def test_comments_and_layout_change_no_unit() -> None:
    units, why = diff("set_base", "set_comments")
    assert units == ()
    assert why.startswith("comments or layout only")


def test_one_binding_changed() -> None:
    assert diff("set_base", "set_one_binding") == ((Unit(SET_FILE, "p3"),), "1 binding changed")


def test_binding_added() -> None:
    assert diff("set_base", "set_added") == ((Unit(SET_FILE, "p20"),), "1 binding changed; added: p20")


def test_binding_removed() -> None:
    assert diff("set_base", "set_removed") == ((Unit(SET_FILE, "p19"),), "1 binding changed; removed: p19")


def test_several_bindings_added_or_removed() -> None:
    units, why = diff("set_added", "set_removed")
    assert units == (Unit(SET_FILE, "p19"), Unit(SET_FILE, "p20"))
    assert why == "2 bindings changed; removed: p19, p20"
    units, why = diff("set_removed", "set_added")
    assert units == (Unit(SET_FILE, "p19"), Unit(SET_FILE, "p20"))
    assert why == "2 bindings changed; added: p19, p20"


def test_let_binding_around_the_set_is_a_unit() -> None:
    assert diff("set_base", "set_let") == ((Unit(SET_FILE, "helper"),), "1 binding changed")


def test_frame_changed_is_the_whole_file() -> None:
    assert diff("set_base", "set_frame") == ((Unit(SET_FILE),), "changed outside its bindings")


def test_small_set_is_read_whole() -> None:
    assert diff("set_small", "set_small_changed") == ((Unit(SET_FILE),), "changed")


def test_release_file_is_read_binding_by_binding_however_small() -> None:
    path = "nixos/release.nix"
    assert diff("set_small", "set_small_changed", path) == ((Unit(path, "p0"),), "1 binding changed")


def test_file_becoming_a_package_set_is_read_whole() -> None:
    assert diff("set_small", "set_base") == ((Unit(SET_FILE),), "changed")


@pytest.mark.parametrize(("base", "head"), [("package", "callpackage"), ("update", "rec_set"), ("paths", "numbers")])
def test_other_files_are_one_unit(base: str, head: str) -> None:
    assert diff(base, head, "pkgs/tools/x/default.nix") == ((Unit("pkgs/tools/x/default.nix"),), "changed")


def test_same_text_is_no_change_for_any_file() -> None:
    for name in ("package", "set_small", "computed"):
        units, why = diff(name, name, "pkgs/tools/x/default.nix")
        assert units == () and why.startswith("comments or layout only")
