"""Branch rules: every rule of the shipped nixpkgs policy on hand-made facts, a custom policy file, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from impact.analysis.change import Change, Root, RootKind
from impact.analysis.labels import rebuild_labels
from impact.analysis.policy import Facts, Measure, advise, facts_of, load_policy, parse_policy
from impact.analysis.rebuild import RebuildEstimate
from impact.errors import InputError

NIXOS_TESTS = "10.rebuild-nixos-tests"


@pytest.fixture(scope="module")
def nixpkgs():  # type: ignore[no-untyped-def]
    return load_policy()


def facts(linux: int = 1, darwin: int = 0, *, base: str = "master", **kw: object) -> Facts:
    return Facts(base=base, packages_by_kernel={"linux": linux, "darwin": darwin}, **kw)  # type: ignore[arg-type]


def rules_fired(advice) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.rule for r in advice.reasons]


def test_small_change_stays_on_master(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    advice = advise(nixpkgs, facts(linux=3, darwin=7))
    assert (advice.target, advice.alternatives, rules_fired(advice)) == ("master", (), ["default"])
    # The reason cites the number compared: the larger kernel count, darwin's 7.
    assert advice.reasons[0].value == 7 and "7 packages on darwin" in advice.reasons[0].text


@pytest.mark.parametrize(
    ("count", "target", "alternatives", "fired"),
    [
        (499, "master", (), ["default"]),
        (500, "master", ("staging",), ["consider-staging"]),
        (999, "master", ("staging",), ["consider-staging"]),
        (1000, "staging", (), ["mass-rebuild"]),
        (24000, "staging", (), ["mass-rebuild"]),
    ],
)
def test_rebuild_thresholds(nixpkgs, count: int, target: str, alternatives: tuple[str, ...], fired: list[str]) -> None:  # type: ignore[no-untyped-def]
    advice = advise(nixpkgs, facts(linux=count))
    assert (advice.target, advice.alternatives) == (target, alternatives)
    assert [r for r in rules_fired(advice) if r != "default"] == [f for f in fired if f != "default"]
    assert all(r.value == count for r in advice.reasons)
    assert all(f"{count:,}" in r.text for r in advice.reasons)


def test_mass_rebuild_text_cites_threshold_and_rule(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    reason = advise(nixpkgs, facts(linux=5054)).reasons[0]
    assert reason.text == "mass rebuild: 5,054 packages rebuild on linux, 1,000 or more: staging [rule mass-rebuild]"


def test_nixos_tests_go_to_staging_nixos(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    advice = advise(nixpkgs, facts(linux=6, labels=frozenset({NIXOS_TESTS}), nixos_tests=106))
    assert (advice.target, advice.alternatives, rules_fired(advice)) == ("staging-nixos", ("staging",), ["nixos-tests"])
    assert "106 NixOS test jobs" in advice.reasons[0].text


def test_nixos_tests_with_a_mass_rebuild_go_to_staging(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    advice = advise(nixpkgs, facts(linux=5054, labels=frozenset({NIXOS_TESTS})))
    assert (advice.target, rules_fired(advice)) == ("staging", ["mass-rebuild"])


def test_kernel_change_goes_to_staging_nixos_whatever_it_rebuilds(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    advice = advise(nixpkgs, facts(linux=1500, kernel_roots=("linux-4.4.13",)))
    assert advice.target == "staging-nixos"
    assert rules_fired(advice)[0] == "kernel" and "linux-4.4.13" in advice.reasons[0].text
    assert "staging" in advice.alternatives


def test_release_mass_rebuild_goes_to_its_staging(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    assert advise(nixpkgs, facts(linux=1000, base="release-16.03")).target == "staging-16.03"
    assert advise(nixpkgs, facts(linux=10, base="release-16.03")).target == "release-16.03"


def test_release_has_no_staging_nixos(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    advice = advise(nixpkgs, facts(linux=6, base="release-24.05", labels=frozenset({NIXOS_TESTS})))
    assert (advice.target, advice.alternatives) == ("staging-24.05", ())


def test_staging_next_takes_only_fixes(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    advice = advise(nixpkgs, facts(linux=3, base="staging-next"))
    assert advice.target == "master" and advice.alternatives == ("staging-next",)
    assert "staging-next-fixes-only" in rules_fired(advice)
    # The same on a release line.
    assert advise(nixpkgs, facts(linux=3, base="staging-next-16.03")).alternatives == ("staging-next-16.03",)


@pytest.mark.parametrize(
    ("count", "base", "target", "rule"),
    [
        (10, "master", "master", "security"),
        (999, "master", "master", "security"),
        (1000, "master", "staging-next", "security-mass-rebuild"),
        (10, "release-16.03", "release-16.03", "security"),
        (5000, "release-16.03", "staging-next-16.03", "security-mass-rebuild"),
        (10, "staging", "master", "security"),
    ],
)
def test_security_fixes(nixpkgs, count: int, base: str, target: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    advice = advise(
        nixpkgs,
        facts(linux=count, base=base, security=True, labels=frozenset({NIXOS_TESTS}), kernel_roots=("linux-4.4.13",)),
    )
    assert (advice.target, rules_fired(advice)) == (target, [rule])


def test_unknown_base_is_an_input_error(nixpkgs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="'release-16' is not a branch of policy nixpkgs"):
        advise(nixpkgs, facts(base="release-16"))


GUIX = """
[policy]
name = "guix"
measure = "packages"
default-base = "master"

[[line]]
primary = "master"
staging = "staging"
core = "core-updates"

[[rule]]
id = "core-updates"
when = { rebuilds-at-least = 1801 }
target = "core"
text = "{packages} depend on it, more than 1,800: {branch}"

[[rule]]
id = "staging"
when = { rebuilds-at-least = 300, rebuilds-below = 1801 }
target = "staging"
text = "{packages} depend on it, {at_least} to 1,800: {branch}"
"""


@pytest.mark.parametrize(
    ("packages", "target"), [(299, "master"), (300, "staging"), (1800, "staging"), (1801, "core-updates")]
)
def test_custom_policy_file(tmp_path: Path, packages: int, target: str) -> None:
    file = tmp_path / "guix.toml"
    file.write_text(GUIX)
    policy = load_policy(file)
    assert (policy.name, policy.measure) == ("guix", Measure.PACKAGES)
    advice = advise(policy, Facts(base="master", packages=packages, packages_by_kernel={"linux": 1}))
    assert advice.target == target and advice.policy == "guix"
    assert advice.reasons[0].value == packages and f"{packages:,}" in advice.reasons[0].text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[policy]\nmeasure = 'lines'\n[[line]]\nprimary = 'main'\n", "measure 'lines'"),
        ("[policy]\nname = 'x'\n", "no \\[\\[line\\]\\]"),
        ("[[line]]\nstaging = 'staging'\n", "`primary` role"),
        (
            "[[line]]\nprimary = 'main'\n[[rule]]\nid = 'r'\nwhen = { rebuilds-at-least = '500' }\ntarget = 'primary'\n",
            "must be int",
        ),
        (
            "[[line]]\nprimary = 'main'\n[[rule]]\nid = 'r'\nwhen = { size = 5 }\ntarget = 'primary'\n",
            "`when` takes only",
        ),
        ("[[line]]\nprimary = 'main'\n[[rule]]\nid = 'r'\ntarget = 'primary'\ncolour = 'red'\n", "unknown keys colour"),
        ("[[line]]\nprimary = 'main'\n[[rule]]\nid = 'r'\n", "neither `target` nor `consider`"),
        ("[[line]\n", "not valid TOML"),
        ("[policy]\ndefault-base = 'trunk'\n[[line]]\nprimary = 'main'\n", "'trunk' is not a branch"),
    ],
)
def test_bad_policy_files_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_policy(text, origin="bad.toml")


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read policy file"):
        load_policy(tmp_path / "absent.toml")


def _estimate(root_names: list[str], nixpkgs_jobs: list[str], derivations: int) -> RebuildEstimate:
    roots = (
        *tuple(
            Root(f"/nix/store/{'a' * 32}-{n}.drv", n, "x86_64-linux", RootKind.NAMED, "by hand") for n in root_names
        ),
        Root(f"/nix/store/{'b' * 32}-nixos.drv", "linux-9.9-tree", "x86_64-linux", RootKind.SOURCE_TREE, "commit"),
    )
    return RebuildEstimate(
        change=Change("by hand", roots),
        changed_jobs={"nixpkgs": tuple(nixpkgs_jobs), "nixos": ()},
        changed_jobs_by_system={},
        derivations_to_build=derivations,
        derivations_to_build_by_system={},
        every_commit_jobs={},
        every_commit_derivations=0,
        nixos_tests=(),
        jobs_total={},
        rebuilt=np.empty(0, dtype=np.int64),
    )


@pytest.mark.parametrize(
    ("roots", "kernel"),
    [
        (["linux-4.4.13", "linux-config-4.4.13"], ("linux-4.4.13",)),
        (["linux-headers-4.4"], ()),
        (["linux-firmware-2016"], ()),
        (["qemu-2.6.0"], ()),
    ],
)
def test_facts_of_an_estimate_detect_kernel_changes(nixpkgs, roots: list[str], kernel: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = _estimate(roots, ["a.x86_64-linux", "a.i686-linux", "b.x86_64-darwin"], 9)
    got = facts_of(result, rebuild_labels(result.changed_jobs), nixpkgs, base="staging")
    assert got.kernel_roots == kernel
    assert (got.base, got.packages_by_kernel, got.packages, got.derivations, got.jobs) == (
        "staging",
        {"linux": 1, "darwin": 1},
        2,
        9,
        3,
    )
