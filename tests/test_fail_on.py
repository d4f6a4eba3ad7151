"""`--fail-on`: CI gates on `impact hydra-compare`'s verdict and on `impact pr`'s labels. The answer is given in
full; then exit code 3 and one line when a condition holds, 0 when none does, 2 for a condition impact does not
know (before any work)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impact.analysis.fail_on import holding, parse_conditions
from impact.cli import main
from impact.errors import InputError

HYDRA = Path(__file__).parent / "fixtures" / "hydra"
BASE, HEAD = HYDRA / "base-builds.json", HYDRA / "head-builds.json"  # HEAD breaks qemu and podman


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("rebuild-linux:501+", "10.rebuild-linux: 501+"),
        ("10.rebuild-linux: 501+", "10.rebuild-linux: 501+"),
        ("rebuild-darwin:1-10", "10.rebuild-darwin: 1-10"),
        ("rebuild-linux-stdenv", "10.rebuild-linux-stdenv"),
        ("rebuild-nixos-tests", "10.rebuild-nixos-tests"),
    ],
)
def test_a_label_condition_names_the_label_ci_sets(text: str, label: str) -> None:
    (condition,) = parse_conditions([text], verdicts=False, labels=True, command="impact pr")
    assert condition.label == label
    assert holding([condition], None, {label, "other"}) == (f"label {label}",)
    assert holding([condition], None, {"10.rebuild-linux: 1-10"}) == ()


def test_verdict_conditions() -> None:
    conditions = parse_conditions(["breaks", "not-ok"], verdicts=True, labels=False, command="impact hydra-compare")
    assert holding(conditions, "breaks", ()) == ("verdict breaks", "verdict breaks")
    assert holding(conditions, "restart", ()) == ("verdict restart",)  # not-ok: any verdict but ok
    assert holding(conditions, "ok", ()) == ()


@pytest.mark.parametrize(
    ("text", "verdicts", "labels", "message"),
    [
        ("rebuild-linux:500+", True, True, "no such condition"),  # not a bucket CI has
        ("rebuild-hurd:1-10", False, True, "no such condition"),
        ("rebuild-linux:501+", True, False, "no such condition for impact hydra-compare"),
        ("breaks", False, True, "has no Hydra verdict here"),
        ("", True, True, "no such condition"),
    ],
)
def test_a_condition_impact_cannot_check_is_bad_input(text: str, verdicts: bool, labels: bool, message: str) -> None:
    command = "impact hydra-compare" if not labels else "impact pr"
    with pytest.raises(InputError, match=message):
        parse_conditions([text], verdicts=verdicts, labels=labels, command=command)


def test_hydra_compare_fails_on_breaks_after_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "hydra-compare", str(BASE), str(HEAD), "--format", "json", "--fail-on", "breaks")
    assert code == 3
    assert json.loads(out)["verdict"] == "breaks"  # the answer in full, on standard output
    assert err == "impact: fail-on: verdict breaks (--fail-on breaks)\n"
    code, out, err = run(capsys, "hydra-compare", str(BASE), str(HEAD), "--fail-on", "restart", "--fail-on", "wait")
    assert (code, err) == (0, "") and "Not ready" in out  # the verdict is neither
    code, out, err = run(capsys, "hydra-compare", str(BASE), str(BASE), "--fail-on", "not-ok")
    assert (code, err) == (0, "") and "No new breaking builds" in out


def test_hydra_compare_refuses_a_label_condition(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "hydra-compare", str(BASE), str(HEAD), "--fail-on", "rebuild-linux:501+")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "no such condition for impact hydra-compare" in err


def test_pr_fails_on_a_label_bucket_after_writing_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """staging of 2016-06-20 against master: 10.rebuild-linux: 501+ (and 5001+) among its labels."""
    out_dir = tmp_path / "report"
    argv = ["pr", "master-2016-06-24", "staging-2016-06-20", "--repo", str(tmp_path), "-o", str(out_dir), "--json"]
    code, out, err = run(capsys, *argv, "--fail-on", "rebuild-linux:501+", "--fail-on", "rebuild-darwin:1-10")
    assert code == 3
    report = json.loads((out_dir / "report.json").read_text())
    assert "10.rebuild-linux: 501+" in report["labels"] and json.loads(out)["labels"] == report["labels"]
    assert err == (
        "impact: fail-on: label 10.rebuild-linux: 501+ (--fail-on rebuild-linux:501+ --fail-on rebuild-darwin:1-10)\n"
    )
    code, _, err = run(capsys, *argv, "--fail-on", "rebuild-darwin:1-10")
    assert (code, err) == (0, "")


def test_pr_refuses_a_verdict_without_hydra_builds_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "report"
    argv = ["pr", "master-2016-06-24", "staging-2016-06-20", "--repo", str(tmp_path), "-o", str(out_dir)]
    code, out, err = run(capsys, *argv, "--fail-on", "breaks")
    assert code == 2 and out == "" and "--hydra-base and --hydra-head" in err
    assert not (out_dir / "report.json").exists()
