"""On one's own nixpkgs checkout: `impact diff` / `impact pr` take shipped snapshot names (as `branches` does)
beside paths and git refs, and say when a name is ambiguous; what git says of an evaluated tree (commit, branch,
date) is recorded, checked, and shown by `impact snapshot info`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from impact import gitinfo
from impact.analysis.diff import diff_snapshots
from impact.cli import main
from impact.loaders import load_snapshot
from impact.loaders.merge import write_snapshot
from impact.loaders.snapshot_folder import eval_source
from impact.snapshots import shipped
from impact.writing import write_atomic

REPO = Path(__file__).resolve().parents[1]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_AUTHOR_DATE": "2019-03-19T12:00:00Z",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_COMMITTER_DATE": "2019-03-19T12:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository of one commit on branch `master`."""
    repo = tmp_path / "nixpkgs"
    repo.mkdir()
    (repo / "default.nix").write_text("{ }\n")
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- shipped names in diff and pr -------------------------------------------------------------------------


def test_diff_takes_shipped_snapshot_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`impact diff master-2016-06-24 staging-2016-06-20`, as `impact branches` takes them; the answer is the
    diff of those two files, and the same given by path."""
    code, out, err = run(capsys, "diff", "master-2016-06-24", "staging-2016-06-20", "--repo", str(tmp_path), "--json")
    assert code == 0, err
    by_name = json.loads(out)
    want = diff_snapshots(load_snapshot("master-2016-06-24"), load_snapshot("staging-2016-06-20")).to_dict()
    assert by_name["changed"] == want["changed"] and by_name["added"] == want["added"]
    assert len(by_name["changed"]["nixpkgs"]) == 15_005
    paths = [str(shipped(n).path) for n in ("master-2016-06-24", "staging-2016-06-20")]
    code, out, err = run(capsys, "diff", *paths, "--json")
    assert code == 0 and json.loads(out)["changed"] == by_name["changed"]


def test_pr_takes_shipped_snapshot_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "report"
    argv = ["pr", "release-19.03-2019-03-21", "master-2019-03-19", "--repo", str(tmp_path), "-o", str(folder)]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out.startswith(f"wrote {folder / 'report.md'}") and (folder / "report.json").is_file()


def test_a_name_that_is_also_a_git_ref_is_ambiguous(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "branch", "master-2016-06-24")
    code, out, err = run(capsys, "diff", "master-2016-06-24", "staging-2016-06-20", "--repo", str(repo))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "'master-2016-06-24' is both a shipped snapshot and a git ref of" in err
    assert "refs/heads/master-2016-06-24" in err and str(shipped("master-2016-06-24").path) in err
    folder = repo.parent / "report"
    code, _, err = run(capsys, "pr", "master-2016-06-24", "staging-2016-06-20", "--repo", str(repo), "-o", str(folder))
    assert code == 2 and "ambiguous" in err and not folder.exists()


def test_a_name_that_is_neither_is_still_a_git_ref(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", "no-such-ref", "master-2016-06-24", "--repo", str(repo))
    assert code == 2 and "'no-such-ref' is not a commit of the git repository" in err


# -- what git says of a tree ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("master", True),
        ("release-19.03", True),
        ("feature/qemu+9p_fix", True),
        ("", False),
        ("-rf", False),
        ("a..b", False),
        ("a//b", False),
        ("a/.hidden", False),
        ("x.lock", False),
        ("ends/", False),
        ("ends.", False),
        ("HEAD", False),
        ("has space", False),
        ("semi;colon", False),
        ("`echo`", False),
        ("<script>", False),
        ("ünïcode", False),
        ("line\nbreak", False),
        ("a" * 201, False),
    ],
)
def test_a_branch_is_kept_only_as_a_plain_ref_name(text: str, ok: bool) -> None:
    assert gitinfo.valid_branch(text) is ok


def test_commits_and_dates_are_checked() -> None:
    assert gitinfo.valid_commit("8fce8a930cdb6385ac1a7cb941d13cfc7dfd51d7")
    assert not gitinfo.valid_commit("8fce8a9")  # abbreviated
    assert not gitinfo.valid_commit("8FCE8A930CDB6385AC1A7CB941D13CFC7DFD51D7")
    assert not gitinfo.valid_commit("8fce8a930cdb6385ac1a7cb941d13cfc7dfd51d7\n")
    assert gitinfo.valid_date("2019-03-19") and not gitinfo.valid_date("2019-02-30")
    assert not gitinfo.valid_date("2019-03-19; rm")


def test_a_git_checkout_says_commit_branch_date_and_whether_it_is_modified(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    assert gitinfo.checkout_source(repo) == {"commit": commit, "branch": "master", "date": "2019-03-19"}
    (repo / "default.nix").write_text("{ changed = true; }\n")
    assert gitinfo.checkout_source(repo)["modified"] == "yes"
    git(repo, "checkout", "-q", "--detach")  # detached: no branch
    assert "branch" not in gitinfo.checkout_source(repo)
    (repo / "sub").mkdir()
    assert gitinfo.checkout_source(repo / "sub") == {}  # a folder inside a work tree is not its top
    assert gitinfo.checkout_source(repo.parent) == {}  # not a work tree


def test_a_hostile_branch_name_is_not_recorded(repo: Path) -> None:
    for name in ("x;$(id)`id`", "<b>ünï</b>", "feature/_bold_|table"):
        git(repo, "checkout", "-q", "-b", name)  # git takes them all
        source = gitinfo.checkout_source(repo)
        assert "branch" not in source and gitinfo.valid_commit(source["commit"]), name


def test_an_exported_ref_says_its_branch(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1")
    git(repo, "update-ref", "refs/remotes/origin/staging", commit)
    assert gitinfo.ref_source(repo, "master", commit) == {"commit": commit, "branch": "master", "date": "2019-03-19"}
    assert gitinfo.ref_source(repo, "origin/staging", commit)["branch"] == "staging"
    assert "branch" not in gitinfo.ref_source(repo, "v1", commit)
    assert gitinfo.ref_source(repo, "HEAD", commit)["branch"] == "master"  # HEAD is on master
    assert "branch" not in gitinfo.ref_source(repo, "master~0", commit)  # a commit, not a branch
    assert gitinfo.ref_source(repo, "master", "not-a-commit") == {}


def test_git_runs_without_the_repositorys_hooks(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "post-checkout").write_text("#!/bin/sh\ntouch hooked\n")
    (hooks / "post-checkout").chmod(0o755)
    git(repo, "config", "core.fsmonitor", "touch fsmonitor-ran; false")
    (repo / "default.nix").write_text("{ changed = true; }\n")
    assert gitinfo.checkout_source(repo)["modified"] == "yes"
    assert not (repo / "fsmonitor-ran").exists() and not (repo / "hooked").exists()


def _folder(tmp_path: Path, source: object) -> Path:
    """A one-derivation snapshot folder whose eval.json holds `source`."""
    drv = "/nix/store/7ws8s98v20pgrmkz5c4s8a99lhy07qbd-hello-2.10.drv"
    derivations = {drv: json.loads((REPO / "tests/fixtures/show_derivation/nix-2.8.json").read_text())[drv]}
    derivations[drv]["inputDrvs"] = {}
    line = {"attr": "hello.x86_64-linux", "drvPath": drv, "system": "x86_64-linux", "jobset": "nixpkgs"}
    folder = tmp_path / "snap"
    folder.mkdir()
    write_snapshot(folder, [line], derivations, {"systems": ["x86_64-linux"], "source": source}, write_atomic)
    return folder


def test_snapshot_info_names_the_commit_and_branch_eval_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit = "8fce8a930cdb6385ac1a7cb941d13cfc7dfd51d7"
    folder = _folder(tmp_path, {"commit": commit, "branch": "master", "date": "2019-03-19", "modified": "yes"})
    code, out, _ = run(capsys, "snapshot", "info", str(folder), "--json")
    info = json.loads(out)
    assert code == 0 and (info["commit"], info["branch"], info["date"], info["modified"]) == (
        commit,
        "master",
        "2019-03-19",
        True,
    )
    code, out, _ = run(capsys, "snapshot", "info", str(folder))
    assert f"branch master, commit {commit} with changes not committed, date 2019-03-19" in out


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ({"commit": "8fce8a9", "branch": "master", "modified": "yes"}, {"branch": "master"}),
        ({"commit": "x" * 40, "branch": "a b", "date": "2019-03-19"}, {"date": "2019-03-19"}),
        ({"commit": ["8fce8a930cdb6385ac1a7cb941d13cfc7dfd51d7"], "branch": {"x": 1}, "date": 20190319}, {}),
        ({"branch": "<img src=x onerror=alert(1)>", "label": "**bold**"}, {}),
        ("master", {}),
        (None, {}),
    ],
)
def test_a_hostile_eval_json_gives_nothing_unchecked(tmp_path: Path, source: object, kept: dict[str, str]) -> None:
    assert eval_source(_folder(tmp_path, source)) == kept


def test_snapshot_import_checks_the_commit_and_branch_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, None)
    out = tmp_path / "x.impact"
    for option, value in (("--commit", "8fce8a9"), ("--branch", "a b"), ("--date", "19 March")):
        code, _, err = run(capsys, "snapshot", "import", str(folder), "-o", str(out), option, value)
        assert code == 2 and f"{option} {value!r}: not" in err and not out.exists()
