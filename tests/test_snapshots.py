"""Shipped snapshots: the registry, names and paths, `impact snapshot list|info|import`, scripts/make-snapshots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from impact import api, snapshots
from impact.cli import main
from impact.errors import UnknownNameError
from impact.loaders import load_snapshot
from impact.loaders.show_derivation import load_graph
from impact.snapshots import SHIPPED, SNAPSHOT_ENV, ShippedSnapshot, resolve
from tests.conftest import DATA, REPO, require_shared

MB = 1000 * 1000


@pytest.fixture(autouse=True)
def _no_snapshot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SNAPSHOT_ENV, raising=False)


def _ids(s: ShippedSnapshot) -> str:
    return s.name


# -- the shipped files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shipped", SHIPPED, ids=_ids)
def test_each_shipped_file_is_there_small_and_says_what_it_is(shipped: ShippedSnapshot) -> None:
    assert shipped.path.parent == REPO / "data"  # an editable install reads the checkout
    assert shipped.path.stat().st_size < 9 * MB
    graph = load_snapshot(shipped.name)
    assert {k: graph.meta.get(k) for k in ("label", "branch", "commit", "date")} == {
        "label": shipped.label,
        "branch": shipped.branch,
        "commit": shipped.commit,
        "date": shipped.date,
    }
    assert graph.job_count > 10_000 and set(graph.jobsets) == {"nixpkgs", "nixos"}


@pytest.mark.shared
@pytest.mark.parametrize("shipped", SHIPPED, ids=_ids)
def test_each_shipped_file_holds_its_evaluation(shipped: ShippedSnapshot) -> None:
    folder = require_shared(DATA / shipped.source)
    assert load_snapshot(shipped.name).same_as(load_snapshot(folder))


def test_pyproject_installs_every_shipped_file() -> None:
    import tomllib

    data_files = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    assert sorted(data_files["share/impact"]) == sorted(f"data/{s.file_name}" for s in SHIPPED)


def test_the_default_is_master_of_2019() -> None:
    assert snapshots.DEFAULT.name == "master-2019-03-19"
    assert resolve(None) == snapshots.DEFAULT.path


# -- names and paths -----------------------------------------------------------------------------------------


def test_names_file_names_and_paths_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = snapshots.shipped("release-19.03-2019-03-21")
    assert resolve("release-19.03-2019-03-21") == release.path
    assert resolve(release.file_name) == release.path
    assert resolve(release.path) == release.path
    # A path that exists wins over a name; a missing path is left to the loader, which says it is missing.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "master-2016-06-24").mkdir()
    assert resolve("master-2016-06-24") == Path("master-2016-06-24")
    assert resolve("sub/missing.impact") == Path("sub/missing.impact")
    monkeypatch.setenv(SNAPSHOT_ENV, "staging-2016-06-20")
    assert resolve(None) == snapshots.shipped("staging-2016-06-20").path


def test_unknown_name_lists_the_shipped_ones() -> None:
    with pytest.raises(UnknownNameError) as e:
        resolve("master-2019")
    assert all(s.name in str(e.value) for s in SHIPPED)


def test_unknown_name_on_the_command_line_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["estimate", "qemu", "--snapshot", "master-2019"], ["snapshot", "info", "master-2019"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("impact: error: master-2019: ")
        assert all(s.name in err for s in SHIPPED) and "Traceback" not in err


def test_unknown_name_in_the_environment_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SNAPSHOT_ENV, "nixos-19.03")
    assert main(["estimate", "hello"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nixos-19.03" in err and "master-2019-03-19" in err


def test_api_loads_by_name() -> None:
    assert api.load("staging-2016-06-20").meta["branch"] == "staging"


# -- impact snapshot list / info -----------------------------------------------------------------------------


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for s in SHIPPED:
        [row] = [line for line in lines if line.startswith(s.name + " ")]
        assert s.branch in row and s.date in row and s.commit[:12] in row and "MB" in row
    assert "(default)" in next(line for line in lines if line.startswith("master-2019-03-19"))
    assert main(["snapshot", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in listed] == [s.name for s in SHIPPED]
    assert all(0 < s["bytes"] < 9 * MB and Path(s["path"]).exists() for s in listed)
    assert [s["name"] for s in listed if s["default"]] == ["master-2019-03-19"]


def _jobs(graph: Any) -> dict[str, dict[str, int]]:
    per: dict[str, dict[str, int]] = {}
    for js, sy in zip(graph.job_jobsets, graph.job_systems):
        per.setdefault(js, {}).setdefault(sy, 0)
        per[js][sy] += 1
    return per


@pytest.mark.parametrize("given", [[], ["release-19.03-2019-03-21"], ["--snapshot", "staging-2016-06-20"]])
def test_info_says_branch_commit_date_systems_jobs_derivations(
    given: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    name = given[-1] if given else "master-2019-03-19"
    shipped = snapshots.shipped(name)
    graph = load_snapshot(name)
    assert main(["snapshot", "info", *given, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["name"], info["branch"], info["commit"], info["date"]) == (
        name,
        shipped.branch,
        shipped.commit,
        shipped.date,
    )
    assert info["jobs"] == _jobs(graph) and info["derivations"] == len(graph)
    assert set(info["systems"]) == set(graph.job_systems)
    assert main(["snapshot", "info", *given]) == 0
    text = capsys.readouterr().out
    assert shipped.commit in text and shipped.date in text and f"{len(graph):,} derivations" in text
    assert f"systems: {', '.join(info['systems'])}" in text
    for jobset, per in info["jobs"].items():
        for system, n in per.items():
            assert any(line.split() == [jobset, system, f"{n:,}"] for line in text.splitlines())


def test_info_of_a_path_and_both_forms_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = REPO / "tests" / "fixtures" / "show_derivation" / "nix-2.8.json"
    assert main(["snapshot", "info", str(fixture), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["name"] is None and info["branch"] == "" and info["derivations"] == len(load_graph(fixture))
    assert main(["snapshot", "info", "master-2016-06-24", "--snapshot", "staging-2016-06-20"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_import_writes_rows_in_name_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = REPO / "tests" / "fixtures" / "show_derivation" / "nix-2.8.json"
    out = tmp_path / "x.impact"
    assert main(["snapshot", "import", str(fixture), "-o", str(out), "--branch", "master", "--date", "2016-06-24"]) == 0
    assert "wrote" in capsys.readouterr().out
    written = load_snapshot(out)
    assert written.same_as(load_graph(fixture))
    assert written.names == sorted(written.names)
    assert (written.meta["branch"], written.meta["date"]) == ("master", "2016-06-24")


@pytest.mark.shared
def test_make_snapshots_makes_the_shipped_file(tmp_path: Path) -> None:
    require_shared(DATA / "nixpkgs-staging-2016-06-20")
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make-snapshots"), "--out", str(tmp_path), "staging-2016-06-20"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    made = tmp_path / "nixpkgs-staging-2016-06-20.impact"
    assert load_snapshot(made).same_as(load_snapshot("staging-2016-06-20"))
    assert load_snapshot(made).meta == load_snapshot("staging-2016-06-20").meta
    bad = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make-snapshots"), "--out", str(tmp_path), "trunk-2020"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "master-2019-03-19" in bad.stderr


@pytest.mark.clone
def test_plain_install_ships_every_snapshot(tmp_path: Path) -> None:
    """`pip install .` (not editable) of a clone puts every shipped file under <prefix>/share/impact, by name."""
    from tests.test_notebooks import _environment, _share_packages

    clone = tmp_path / "clone"  # not "impact": a folder of that name in the working directory shadows the package
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=300)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    _share_packages(venv)
    env = _environment()
    python = str(venv / "bin" / "python")
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "."],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    listed = subprocess.run(
        [str(venv / "bin" / "impact"), "snapshot", "list", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    files = {s["name"]: Path(s["path"]) for s in json.loads(listed.stdout)}
    assert sorted(files) == sorted(s.name for s in SHIPPED)
    for s in SHIPPED:
        assert files[s.name] == venv / "share" / "impact" / s.file_name
        assert files[s.name].read_bytes() == s.path.read_bytes()
