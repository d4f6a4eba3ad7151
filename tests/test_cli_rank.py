"""`impact rank` on the shipped master of 2016-06-24: text, --json, --kernel, --limit, errors."""

from __future__ import annotations

import json

import pytest

from impact.cli import main
from impact.snapshots import SNAPSHOT_ENV
from tests.conftest import MASTER_2016


@pytest.fixture(autouse=True)
def _master_2016(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check 2016 facts: the snapshot named by $IMPACT_SNAPSHOT, as a user would set it."""
    monkeypatch.setenv(SNAPSHOT_ENV, MASTER_2016)


def test_json_lists_every_package_sorted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rank", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    # Aliases of one derivation share a row: rows plus their aliases are the packages of the jobset.
    assert out["packages"] == len(rows) > 5000
    assert sum(1 + len(r["aliases"]) for r in rows) > 6000
    assert [r["jobs_total"] for r in rows] == sorted((r["jobs_total"] for r in rows), reverse=True)
    # Every row counts its changed jobs by kernel; nixos jobs are all x86_64-linux, so they are Linux jobs.
    assert all(r["jobs_linux"] + r["jobs_darwin"] == r["jobs_total"] for r in rows)
    assert all(r["nixos_jobs"] <= r["jobs_linux"] for r in rows)
    assert "every commit" in out["excluded"]
    qemu = next(r for r in rows if r["package"] == "qemu")
    # Nix's answer for a qemu edit (README): 122 jobs and 563 derivations, of which 27 jobs and 122
    # derivations any commit changes. Without the every-commit roots rank counts no more than Nix's total and
    # at least what the every-commit share cannot account for.
    assert 122 - 27 <= qemu["jobs_total"] <= 122
    assert 563 - 122 <= qemu["derivations_to_build"] <= 563


def test_kernel_sorts_and_limit_cuts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rank", "--kernel", "darwin", "--limit", "3"]) == 0
    text = capsys.readouterr().out
    assert "sorted by darwin jobs" in text
    numbered = [line.split()[0] for line in text.splitlines() if line.startswith("  ") and line.strip()[:1].isdigit()]
    assert numbered == ["1", "2", "3"]


def test_unknown_jobset_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rank", "--jobset", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("impact: error: no jobs of jobset 'nope'") and err.count("\n") == 1
