"""`impact estimate` labels, branch advice and formats, and `impact compare`, through the CLI on master 2016-06-24."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from impact.cli import main
from tests.conftest import MASTER_2016

SNAPSHOT = ["--snapshot", MASTER_2016]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main([*argv, *SNAPSHOT, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_hello_goes_to_master(capsys: pytest.CaptureFixture[str]) -> None:
    # hello.nix rebuilds hello on each system and nothing else in nixpkgs (the hello case of ../shared/cases).
    out = run_json(capsys, "estimate", "hello")
    assert "10.rebuild-linux: 1-10" in out["labels"] and "10.rebuild-nixos-tests" not in out["labels"]
    assert out["branch"]["target"] == "master" and out["branch"]["alternatives"] == []
    assert [r["rule"] for r in out["branch"]["reasons"]] == ["default"]


def test_openssl_is_a_mass_rebuild(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "estimate", "openssl")
    assert "10.rebuild-linux: 5001+" in out["labels"]
    branch = out["branch"]
    assert branch["target"] == "staging"
    reason = branch["reasons"][0]
    assert reason["rule"] == "mass-rebuild" and reason["value"] > 5000 and f"{reason['value']:,}" in reason["text"]


def test_qemu_rebuilds_nixos_tests(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "estimate", "qemu")
    assert "10.rebuild-nixos-tests" in out["labels"]
    assert "tests.simple.x86_64-linux" in out["nixos_tests"]
    assert (out["branch"]["target"], out["branch"]["alternatives"]) == ("staging-nixos", ["staging"])


def test_openssl_on_a_release_goes_to_its_staging(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "estimate", "openssl", "--base", "release-16.03")
    assert (out["branch"]["base"], out["branch"]["target"]) == ("release-16.03", "staging-16.03")


def test_security_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "estimate", "openssl", "--security")["branch"]["target"] == "staging-next"
    assert run_json(capsys, "estimate", "hello", "--security")["branch"]["target"] == "master"


def test_kernel_change(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "estimate", "linux_4_4")
    assert out["branch"]["target"] == "staging-nixos" and out["branch"]["reasons"][0]["rule"] == "kernel"


def test_text_shows_labels_and_branch_under_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "qemu", *SNAPSHOT]) == 0
    out = capsys.readouterr().out
    assert out.index("derivations to build") < out.index("Labels: ") < out.index("Branch: staging-nixos")
    assert "[rule nixos-tests]" in out


def test_format_json_equals_the_shorthand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "hello", *SNAPSHOT, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == run_json(capsys, "estimate", "hello")


def test_format_markdown_and_changed_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "hello", *SNAPSHOT, "--format", "markdown", "--base", "staging"]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("<!-- impact-report -->")
        and f"impact estimate hello --base staging --snapshot {MASTER_2016} --format markdown" in out
    )
    assert main(["estimate", "hello", *SNAPSHOT, "--format", "changed-paths"]) == 0
    paths = json.loads(capsys.readouterr().out)
    assert paths["rebuildCountByKernel"] == {"darwin": 1, "linux": 1}
    assert paths["labels"]["10.rebuild-linux: 1"] is True


def test_custom_policy_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "small.toml"
    policy.write_text(
        "[policy]\nname = 'tiny'\nmeasure = 'derivations'\n[[line]]\nprimary = 'main'\nnext = 'next'\n"
        "[[rule]]\nid = 'big'\nwhen = { rebuilds-at-least = 100 }\ntarget = 'next'\ntext = '{count} derivations: {branch}'\n"
    )
    out = run_json(capsys, "estimate", "hello", "--policy", str(policy))
    # hello: 126 derivations to build (../shared/cases/hello.json, measured by Nix).
    assert out["branch"]["target"] == "next" and out["branch"]["reasons"][0]["value"] == 126


def test_bad_base_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "hello", *SNAPSHOT, "--base", "trunk"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'trunk' is not a branch of policy nixpkgs" in err


def test_compare_qemu_and_the_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "compare", "qemu", "linux_4_4")
    qemu, kernel = out["changes"]
    assert (qemu["name"], kernel["name"]) == ("qemu", "linux_4_4")
    # What only one rebuilds is its set minus the other's.
    for one, other in ((qemu, kernel), (kernel, qemu)):
        for jobset, attrs in one["changed_jobs"].items():
            assert one["only"]["jobs"][jobset] == [a for a in attrs if a not in set(other["changed_jobs"][jobset])]
    assert "qemu.x86_64-linux" in qemu["only"]["jobs"]["nixpkgs"]
    assert "linux.x86_64-linux" in kernel["only"]["jobs"]["nixpkgs"]
    common = set(qemu["changed_jobs"]["nixos"]) & set(kernel["changed_jobs"]["nixos"])
    assert out["common"]["jobs"]["nixos"] == sorted(common)
    assert qemu["branch"]["target"] == "staging-nixos" and kernel["branch"]["reasons"][0]["rule"] == "kernel"
    assert out["common"]["derivations_to_build"] + qemu["only"]["derivations_to_build"] == qemu["derivations_to_build"]


def test_compare_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "qemu", "linux_4_4", *SNAPSHOT]) == 0
    out = capsys.readouterr().out
    assert out.startswith("impact compare qemu linux_4_4")
    assert "only this change: derivations" in out and "only qemu rebuilds (nixpkgs, 12)" in out


def test_compare_needs_two_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "qemu", *SNAPSHOT]) == 2
    assert "at least two changes" in capsys.readouterr().err
