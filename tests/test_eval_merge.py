"""Without Nix: joining evaluation slices (impact.loaders.merge) and reading Nix's error messages as Hydra
records them (impact.nix.error_message)."""

from __future__ import annotations

import re

import pytest

from impact.errors import InputError
from impact.loaders.merge import check_settings, job_order, merge_derivations, merge_jobs
from impact.nix import _infrastructure, error_message

SETTINGS = {"systems": ["x86_64-linux"], "nixos": True, "nixosSystems": ["x86_64-linux"], "skip": [], "chunks": 2}


def job(attr: str, jobset: str = "nixpkgs") -> dict:
    return {"attr": attr, "attrPath": attr.split("."), "jobset": jobset}


def test_jobs_of_different_slices_join_and_a_job_in_two_is_refused() -> None:
    joined = merge_jobs([("a", [job("x.s"), job("y.s")]), ("b", [job("x.s", "nixos")])])
    assert [(x["jobset"], x["attr"]) for x in joined] == [("nixpkgs", "x.s"), ("nixpkgs", "y.s"), ("nixos", "x.s")]
    with pytest.raises(InputError, match=re.escape("b: job nixpkgs:y.s is also in a; the slices overlap")):
        merge_jobs([("a", [job("x.s"), job("y.s")]), ("b", [job("y.s")])])


def test_derivations_join_when_equal_and_are_refused_when_told_differently() -> None:
    drv = {"outputs": {"out": {"path": "/nix/store/o"}}}
    assert merge_derivations([("a", {"/d": drv}), ("b", {"derivations": {"/d": drv, "/e": drv}})]) == {
        "/d": drv,
        "/e": drv,
    }
    with pytest.raises(InputError, match=re.escape("b: derivation /d differs from the one in a")):
        merge_derivations([("a", {"/d": drv}), ("b", {"/d": {**drv, "system": "x"}})])


def test_settings_must_agree_and_each_slice_come_once() -> None:
    assert check_settings([("a", {**SETTINGS, "slices": [1]}), ("b", {**SETTINGS, "slices": [0]})]) == (2, [0, 1])
    with pytest.raises(InputError, match="b: systems is"):
        check_settings([("a", {**SETTINGS, "slices": [0]}), ("b", {**SETTINGS, "systems": [], "slices": [1]})])
    with pytest.raises(InputError, match="b: slice 0 is also in a"):
        check_settings([("a", {**SETTINGS, "slices": [0]}), ("b", {**SETTINGS, "slices": [0]})])
    with pytest.raises(InputError, match="no valid slice numbers"):
        check_settings([("a", {**SETTINGS, "slices": [2]})])


def test_job_order_is_the_walk_order() -> None:
    lines = [job("b.s", "nixos"), job("a.b.s"), job("a.s"), job("a-b.s"), job("a.a.s")]
    assert [(x["jobset"], x["attr"]) for x in sorted(lines, key=job_order)] == [
        ("nixpkgs", "a.a.s"),
        ("nixpkgs", "a.b.s"),
        ("nixpkgs", "a.s"),
        ("nixpkgs", "a-b.s"),
        ("nixos", "b.s"),
    ]


STDERR = """\
error: access to absolute path '/etc/hostname' is forbidden in restricted mode

       … while realising the context of path '/etc/hostname'

       at /src/nixpkgs/pkgs/top-level/release.nix:17:28:

           16|   steal = { x86_64-linux = builtins.readFile /etc/hostname; };
             |                            ^

       … while evaluating the attribute 'x86_64-linux'

       at /src/nixpkgs/pkgs/top-level/release.nix:17:13:
"""


def test_error_message_keeps_the_innermost_location_relative_to_the_tree() -> None:
    assert error_message(STDERR, "/src/nixpkgs") == (
        "access to absolute path '/…' is forbidden in restricted mode at pkgs/top-level/release.nix:17:28"
    )
    # A place outside the tree is a path of this machine: not named.
    assert error_message(STDERR, "/elsewhere").endswith(" forbidden in restricted mode at /…:17:28")
    assert error_message("error: boom\n", "/src") == "boom"
    assert error_message("error: Package ‘x’ in ‘/src/pkgs/x.nix:3’ is broken\n", "/src") == (
        "Package ‘x’ in ‘pkgs/x.nix:3’ is broken"
    )
    assert error_message("trace: x\nsomething else\n") == "something else"


def test_a_store_or_machine_failure_is_not_pinned_on_a_job() -> None:
    assert _infrastructure("error: SQLite database '/x/db.sqlite' is busy\n")
    assert _infrastructure("trace: impact-job {}\nerror: writing to file: No space left on device\n")
    assert not _infrastructure(STDERR)
    assert not _infrastructure("error: infinite recursion encountered\n")


def test_structured_attributes_are_trimmed_not_dropped() -> None:
    """closure-info and friends keep name and outputs inside `__json`: dropping it made the snapshot unreadable."""
    import json

    from impact.evaluate import trim_env

    env = {"__json": json.dumps({"name": "closure-info", "outputs": ["out"], "exportReferencesGraph": {}}), "x": "1"}
    assert trim_env(env) == {"__json": json.dumps({"name": "closure-info", "outputs": ["out"]}, sort_keys=True)}
    assert trim_env({"name": "a", "builder": "/bin/sh"}) == {"name": "a"}
