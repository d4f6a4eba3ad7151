"""The cost options of the CLI (`--cost`, `--durations`, `--machines`, `--cores`) on master of 2016-06-24."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impact.cli import main
from impact.snapshots import SNAPSHOT_ENV
from tests.conftest import MASTER_2016


@pytest.fixture(autouse=True)
def _master_2016(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check 2016 facts: the snapshot named by $IMPACT_SNAPSHOT, as a user would set it."""
    monkeypatch.setenv(SNAPSHOT_ENV, MASTER_2016)


FIXTURES = Path(__file__).parent / "fixtures" / "durations"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_estimate_cost_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "estimate", "qemu", "--cost", "--json")
    cost = out["cost"]
    assert cost["derivations"] == out["derivations_to_build"] == 563
    assert cost["is_estimate"] is True and cost["known_from_data"]["derivations"] == 0
    # Without records the model is the answer.
    assert cost["model_only"] == cost["estimate"]
    assert cost["farm"] == {"machines": {"x86_64-linux": 10, "x86_64-darwin": 10}, "cores": 8}
    by_system = cost["estimate"]["cpu_hours_by_system"]
    assert set(by_system) == {"x86_64-linux", "i686-linux", "x86_64-darwin"}
    assert cost["assumptions"] and all(isinstance(a, str) for a in cost["assumptions"])


def test_estimate_cost_text_says_it_is_an_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "linux_4_4", "--cost"]) == 0
    out = capsys.readouterr().out
    for needle in (
        "CPU-hours",
        "critical path",
        "farm time",
        "Assumptions (an estimate",
        "big-parallel",
        "linux-4.4.13",
    ):
        assert needle in out


def test_one_slot_per_system_is_serial(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "estimate", "qemu", "--machines", "1", "--cores", "1", "--json")
    est = out["cost"]["estimate"]
    cpu = est["cpu_hours_by_system"]
    # One slot never idles while work is left (some build is always ready), so each pool takes the sum of its
    # builds: the Linux machine builds x86_64-linux and i686-linux, the darwin machine darwin; the farm waits
    # for the slower pool.
    linux, darwin = cpu["x86_64-linux"] + cpu["i686-linux"], cpu["x86_64-darwin"]
    # The JSON rounds each figure to 0.01 h, so a sum of two rounded figures may be off by up to 0.015 h.
    assert est["farm_hours"] == pytest.approx(max(linux, darwin), abs=0.015)


def test_estimate_with_durations(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in sorted(FIXTURES.iterdir())]
    argv = ["estimate", "qemu", "--json"]
    for f in files:
        argv += ["--durations", f]
    cost = run_json(capsys, *argv)["cost"]
    # See tests/test_durations.py: 7 of qemu's rebuilds have records; 11 records, 4 cached, 2 failed.
    assert cost["known_from_data"]["derivations"] == 7
    assert cost["records"] == {"records": 11, "cached_ignored": 4, "failed_ignored": 2, "untimed_ignored": 0}
    assert cost["estimate"] != cost["model_only"]
    assert cost["data_only_cpu_hours"] == pytest.approx((2700 + 2400 + 3600 + 1800 + 420 + 2 * 1500) / 3600, abs=0.01)


def test_machines_must_cover_the_systems(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "qemu", "--machines", "x86_64-linux=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no machine that builds x86_64-darwin" in err and "tip:" in err


def test_bad_durations_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "times.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["estimate", "qemu", "--durations", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a Hydra CSV export" in err
    assert main(["estimate", "qemu", "--durations", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_markdown_carries_the_cost_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "qemu", "--format", "markdown", "--cost", "--cores", "4"]) == 0
    md = capsys.readouterr().out
    # The reproducing command keeps the cost options; the section comes before the lists of rebuilt packages.
    assert "impact estimate qemu --format markdown --cost --cores 4" in md
    assert md.index("### Cost of the rebuild") < md.index("packages rebuilt on")
    assert "> **An estimate:**" in md and "4 cores each" in md
    assert main(["estimate", "qemu", "--format", "markdown"]) == 0
    assert "Cost of the rebuild" not in capsys.readouterr().out


def test_compare_shows_cost_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "qemu", "linux_4_4"]) == 0
    text = capsys.readouterr().out
    section = text[text.index("Cost (estimate: default model") :]
    header = section.splitlines()[1].split()
    assert header == ["qemu", "linux_4_4"]
    rows = {line[:22].strip(): line[22:].split() for line in section.splitlines()[2:10]}
    assert rows["derivations to build"] == ["563", "1,106"]
    # Each column is what `impact estimate NAME --cost` says about that change alone.
    for column, name in enumerate(header):
        cost = run_json(capsys, "estimate", name, "--cost", "--json")["cost"]["estimate"]
        assert rows["CPU-hours"][2 * column : 2 * column + 2] == [f"{cost['cpu_hours']:.1f}", "h"]
        assert rows["farm time"][2 * column : 2 * column + 2] == [f"{cost['farm_hours']:.1f}", "h"]
    assert "Assumptions (an estimate, not a measurement):" in section and "big-parallel" in section
    assert main(["compare", "qemu", "linux_4_4", "--no-cost"]) == 0
    assert "CPU-hours" not in capsys.readouterr().out


def test_compare_cost_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, "compare", "qemu", "linux_4_4", "--machines", "3", "--json")
    assert list(out["cost"]) == ["qemu", "linux_4_4"]
    assert out["cost"]["linux_4_4"]["farm"] == {"machines": {"x86_64-linux": 3}, "cores": 8}
    assert out["cost"]["qemu"]["derivations"] == out["changes"][0]["derivations_to_build"]
