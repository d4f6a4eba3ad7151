"""`--base BRANCH` answers on that branch's shipped snapshot of the same time; headers say whose data it is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from impact import api, snapshots
from impact.cli import main
from impact.loaders import load_snapshot
from impact.snapshots import SHIPPED, SNAPSHOT_ENV, base_note, snapshot_for_base


@pytest.fixture(autouse=True)
def _no_snapshot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SNAPSHOT_ENV, raising=False)


def test_snapshot_for_base(monkeypatch: pytest.MonkeyPatch) -> None:
    path = {s.name: s.path for s in SHIPPED}
    assert snapshot_for_base(None, None) == path["master-2019-03-19"]
    assert snapshot_for_base(None, "release-19.03") == path["release-19.03-2019-03-21"]
    # No staging of 2019 is shipped, and release-16.03 is three years from the default: not the same time.
    assert snapshot_for_base(None, "staging") == path["master-2019-03-19"]
    assert snapshot_for_base(None, "release-16.03") == path["master-2019-03-19"]
    # A snapshot given is used as is.
    assert snapshot_for_base("master-2016-06-24", "release-16.03") == path["master-2016-06-24"]
    # $IMPACT_SNAPSHOT naming a shipped snapshot sets the time; naming a path, it is used as is.
    monkeypatch.setenv(SNAPSHOT_ENV, "master-2016-06-24")
    assert snapshot_for_base(None, "staging") == path["staging-2016-06-20"]
    assert snapshot_for_base(None, "release-16.03") == path["release-16.03-2016-06-23"]
    assert snapshot_for_base(None, "release-19.03") == path["master-2016-06-24"]
    monkeypatch.setenv(SNAPSHOT_ENV, str(path["master-2016-06-24"]))
    assert snapshot_for_base(None, "staging") == path["master-2016-06-24"]


def test_base_note() -> None:
    assert base_note({"branch": "master"}, None) == ""
    assert base_note({"branch": "release-19.03"}, "release-19.03") == "base release-19.03: answered on its own data"
    note = base_note({"branch": "master", "date": "2019-03-19"}, "staging")
    assert (
        note == "base staging: staging's rules applied to master's data (no staging snapshot of that time is shipped)"
    )
    note = base_note({"branch": "master", "date": "2016-06-24"}, "staging")
    assert note.endswith("(--snapshot staging-2016-06-20 holds staging's own)")
    assert "unknown branch" in base_note({}, "master")


def _estimate(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["estimate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_base_release_answers_on_the_release_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    on_release = _estimate(capsys, "qemu", "--base", "release-19.03")
    release = snapshots.shipped("release-19.03-2019-03-21")
    assert on_release["snapshot"]["branch"] == "release-19.03" and on_release["snapshot"]["commit"] == release.commit
    assert on_release["snapshot"]["label"].startswith(release.label)
    assert "answered on its own data" in on_release["snapshot"]["label"]
    # The answer is the release snapshot's own: what the library computes on it, not on master.
    expected = api.estimate(load_snapshot(release.name), "qemu").to_dict()
    assert on_release["changed_jobs"] == expected["changed_jobs"]
    assert on_release["derivations_to_build"] == expected["derivations_to_build"]
    on_master = _estimate(capsys, "qemu")
    assert on_master["snapshot"]["branch"] == "master"
    assert on_master["changed_jobs"] != on_release["changed_jobs"]
    assert main(["estimate", "qemu", "--base", "release-19.03"]) == 0
    title = capsys.readouterr().out.splitlines()[0]
    assert title == f"impact estimate qemu  ·  {release.label} · base release-19.03: answered on its own data"


def test_base_without_its_own_snapshot_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "hello", "--base", "staging"]) == 0
    title = capsys.readouterr().out.splitlines()[0]
    master = snapshots.DEFAULT
    assert title.startswith(f"impact estimate hello  ·  {master.label} · base staging: staging's rules applied to")
    assert "master's data" in title
    assert main(["compare", "qemu", "hello", "--base", "staging", "--no-cost", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert master.label in markdown and "staging's rules applied to master's data" in markdown


def test_base_with_a_given_snapshot_keeps_it(capsys: pytest.CaptureFixture[str]) -> None:
    out = _estimate(capsys, "hello", "--base", "release-16.03", "--snapshot", "master-2016-06-24")
    assert out["snapshot"]["branch"] == "master" and out["branch"]["base"] == "release-16.03"
    assert "--snapshot release-16.03-2016-06-23 holds release-16.03's own" in out["snapshot"]["label"]
    out = _estimate(capsys, "hello", "--base", "release-16.03")
    assert out["snapshot"]["branch"] == "master" and out["snapshot"]["date"] == "2019-03-19"
    assert "no release-16.03 snapshot of that time is shipped" in out["snapshot"]["label"]
    out = _estimate(capsys, "hello", "--base", "release-16.03", "--snapshot", "release-16.03-2016-06-23")
    assert out["snapshot"]["branch"] == "release-16.03" and "answered on its own data" in out["snapshot"]["label"]


def test_base_follows_the_time_of_impact_snapshot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SNAPSHOT_ENV, "master-2016-06-24")
    assert main(["compare", "qemu", "hello", "--base", "staging", "--no-cost"]) == 0
    out = capsys.readouterr().out
    assert snapshots.shipped("staging-2016-06-20").label in out and "answered on its own data" in out
