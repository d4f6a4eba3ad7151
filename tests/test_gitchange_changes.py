"""`impact estimate --git` refuses bad input with one line on stderr and exit code 2, before any Nix evaluation:
no git repository, revisions that are not commits (or look like options), `--git` mixed with another way of
naming a change, a diff too large to answer file by file, a tree holding links that leave it. Also the pieces of
`impact.gitchange.changes` the refusals rest on (ranges, changed files, links, exports), on small git
repositories made here.

Nothing here runs Nix: the snapshot is a one-job folder made from tests/fixtures/show_derivation, and every
refusal comes before the tree is parsed.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path

import pytest

from impact.cli import main
from impact.errors import InputError
from impact.gitchange import changes
from impact.gitchange.changes import ChangedFile, changed_files, export, head_contents, parse_range, resolve
from impact.snapshots import SNAPSHOT_ENV

SHOW_DERIVATION = Path(__file__).parent / "fixtures" / "show_derivation" / "nix-2.8.json"
JOB_LINE = (
    '{"attr": "hello.x86_64-linux", "system": "x86_64-linux",'
    ' "drvPath": "/nix/store/7ws8s98v20pgrmkz5c4s8a99lhy07qbd-hello-2.10.drv"}\n'
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    ).stdout


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """A snapshot folder of one job (hello), enough to get past loading to the git steps."""
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "jobs.jsonl.gz").write_bytes(gzip.compress(JOB_LINE.encode()))
    (folder / "derivations.json.gz").write_bytes(gzip.compress(SHOW_DERIVATION.read_bytes()))
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository of two commits shaped like nixpkgs at its top (`base` tagged, then `head`)."""
    repo = tmp_path / "nixpkgs"
    (repo / "pkgs/top-level").mkdir(parents=True)
    (repo / "pkgs/top-level/release.nix").write_text("{ }: { }\n")
    (repo / "pkgs/hello").mkdir()
    (repo / "pkgs/hello/default.nix").write_text("{ }: 1\n")
    git(repo, "init", "-q", "-b", "master")
    commit(repo, "base")
    git(repo, "tag", "base")
    (repo / "pkgs/hello/default.nix").write_text("{ }: 2\n")
    commit(repo, "head")
    return repo


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run impact with `args`; it must refuse with exit 2 and one line on stderr (no traceback); that line."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert out == ""
    assert err.startswith("impact: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def git_refused(capsys: pytest.CaptureFixture[str], repo: Path, spec: str, snapshot: Path, *extra: str) -> str:
    return refused(capsys, "estimate", f"--git={spec}", "--repo", str(repo), "--snapshot", str(snapshot), *extra)


# -- where, which revisions -----------------------------------------------------------------------------------


def test_not_a_git_repository(capsys: pytest.CaptureFixture[str], tmp_path: Path, snapshot: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "not a git repository" in git_refused(capsys, plain, "HEAD~1..HEAD", snapshot)


def test_no_such_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path, snapshot: Path) -> None:
    assert "no such folder" in git_refused(capsys, tmp_path / "missing", "HEAD~1..HEAD", snapshot)


@pytest.mark.parametrize("spec", ["nope..HEAD", "base..nope", "nope", "base..HEAD~5", "HEAD^{tree}..HEAD"])
def test_unknown_revision(capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path, spec: str) -> None:
    assert "is not a commit of the git repository" in git_refused(capsys, repo, spec, snapshot)


@pytest.mark.parametrize(
    "spec", ["-x..HEAD", "HEAD..--output=/tmp/x", "--help", "base..-p", "HEAD;rm -rf ~..HEAD", "a b..HEAD"]
)
def test_revision_that_looks_like_an_option_or_worse(
    capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path, spec: str
) -> None:
    assert "is not a revision" in git_refused(capsys, repo, spec, snapshot)


@pytest.mark.parametrize("spec", ["base...HEAD", "..HEAD", "base..", "", "x" * 600])
def test_malformed_range(capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path, spec: str) -> None:
    assert "--git" in git_refused(capsys, repo, spec, snapshot)


def test_revision_is_resolved_once_to_a_full_commit(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    r = parse_range("base..HEAD", repo)
    assert (r.base, r.head) == (git(repo, "rev-parse", "base").strip(), head)
    assert r.label == f"{r.base[:7]}..{head[:7]}"
    assert parse_range("base", repo).head is None
    assert parse_range("base", repo).label.endswith("+ working tree")
    with pytest.raises(InputError):
        resolve(repo, "--end-of-options")


# -- --git with other options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["hello"], "NAME"),
        (["--file", "pkgs/hello/default.nix"], "--file"),
        (["--drv", "/nix/store/7ws8s98v20pgrmkz5c4s8a99lhy07qbd-hello-2.10.drv"], "--drv"),
    ],
)
def test_git_with_another_way_of_naming_the_change(
    capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path, extra: list[str], named: str
) -> None:
    err = refused(capsys, "estimate", *extra, "--git", "base..HEAD", "--repo", str(repo), "--snapshot", str(snapshot))
    assert "--git cannot be used with" in err and named in err


@pytest.mark.parametrize(
    ("extra", "option"),
    [(["--full"], "--full"), (["--require-exact"], "--require-exact"), (["--repo", "x"], "--repo")],
)
def test_git_options_without_git(
    capsys: pytest.CaptureFixture[str], snapshot: Path, extra: list[str], option: str
) -> None:
    err = refused(capsys, "estimate", "hello", *extra, "--snapshot", str(snapshot))
    assert err.startswith(f"impact: error: {option} cannot be used")


# -- the changed files ----------------------------------------------------------------------------------------


def test_too_many_changed_files(capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path) -> None:
    many = repo / "many"
    many.mkdir()
    for i in range(changes.MAX_CHANGED_FILES + 1):
        (many / f"f{i}").write_text("x")
    commit(repo, "many")
    err = git_refused(capsys, repo, "base..HEAD", snapshot)
    assert f"{changes.MAX_CHANGED_FILES + 2:,} files changed" in err
    assert "impact pr" in err


def test_changed_files_split_renames_and_list_binary_and_deleted_files(repo: Path) -> None:
    git(repo, "checkout", "-q", "base")
    (repo / "pkgs/games").mkdir()
    git(repo, "mv", "pkgs/hello", "pkgs/games/hello")
    (repo / "pkgs/games/hello/icon.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    git(repo, "rm", "-q", "pkgs/top-level/release.nix")
    commit(repo, "moved")
    files = changed_files(parse_range("base..HEAD", repo))
    assert files == [
        ChangedFile("A", "pkgs/games/hello/default.nix"),
        ChangedFile("A", "pkgs/games/hello/icon.png"),
        ChangedFile("D", "pkgs/hello/default.nix"),
        ChangedFile("D", "pkgs/top-level/release.nix"),
    ]
    contents = head_contents(parse_range("base..HEAD", repo), files)
    assert contents["pkgs/games/hello/icon.png"] == (b"\x89PNG\r\n\x1a\n\x00\x00\xff", False)
    assert contents["pkgs/hello/default.nix"] is None


def test_working_tree_lists_uncommitted_untracked_and_deleted_files_not_ignored_ones(repo: Path) -> None:
    (repo / ".gitignore").write_text("result\n")
    commit(repo, "ignore")
    (repo / "pkgs/hello/default.nix").write_text("{ }: 3\n")
    (repo / "pkgs/new.nix").write_text("{ }\n")
    (repo / "pkgs/top-level/release.nix").unlink()
    (repo / "result").write_text("a build result\n")
    files = changed_files(parse_range("HEAD", repo))
    assert files == [
        ChangedFile("M", "pkgs/hello/default.nix"),
        ChangedFile("A", "pkgs/new.nix"),
        ChangedFile("D", "pkgs/top-level/release.nix"),
    ]
    contents = head_contents(parse_range("HEAD", repo), files)
    assert contents == {
        "pkgs/hello/default.nix": (b"{ }: 3\n", False),
        "pkgs/new.nix": (b"{ }\n", False),
        "pkgs/top-level/release.nix": None,
    }


def test_export_has_no_git_folder_and_leaves_the_repository_alone(repo: Path, tmp_path: Path) -> None:
    r = parse_range("base..HEAD", repo)
    status = git(repo, "status", "--porcelain")
    export(r, r.base, tmp_path / "tree")
    assert sorted(str(p.relative_to(tmp_path / "tree")) for p in (tmp_path / "tree").rglob("*") if p.is_file()) == [
        "pkgs/hello/default.nix",
        "pkgs/top-level/release.nix",
    ]
    assert (tmp_path / "tree/pkgs/hello/default.nix").read_text() == "{ }: 1\n"
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "rev-parse", "HEAD").strip() == r.head


# -- a hostile tree -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../../outside", "../../.."])
def test_link_in_head_pointing_outside_the_tree(
    capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path, target: str
) -> None:
    os.symlink(target, repo / "pkgs/hello/evil")
    commit(repo, "evil")
    err = git_refused(capsys, repo, "HEAD~1..HEAD", snapshot)
    assert "pkgs/hello/evil" in err and "points outside the tree" in err


def test_link_in_base_pointing_outside_the_tree(capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path) -> None:
    os.symlink("/etc", repo / "pkgs/etc")
    commit(repo, "evil")
    (repo / "pkgs/hello/default.nix").write_text("{ }: 4\n")
    commit(repo, "after")
    assert "pkgs/etc" in git_refused(capsys, repo, "HEAD~1..HEAD", snapshot)


def test_link_in_working_tree_pointing_outside_the_tree(
    capsys: pytest.CaptureFixture[str], repo: Path, snapshot: Path
) -> None:
    os.symlink("/etc/passwd", repo / "pkgs/hello/evil")
    err = git_refused(capsys, repo, "HEAD", snapshot)
    assert "pkgs/hello/evil" in err and "points outside the tree" in err


def test_link_inside_the_tree_is_kept_as_a_link(repo: Path, tmp_path: Path) -> None:
    os.symlink("default.nix", repo / "pkgs/hello/alias.nix")
    commit(repo, "alias")
    r = parse_range("HEAD~1..HEAD", repo)
    files = changed_files(r)
    assert files == [ChangedFile("A", "pkgs/hello/alias.nix")]
    assert head_contents(r, files) == {"pkgs/hello/alias.nix": (b"default.nix", True)}
    assert r.head is not None
    export(r, r.head, tmp_path / "tree")
    assert os.readlink(tmp_path / "tree/pkgs/hello/alias.nix") == "default.nix"


def test_nothing_of_the_refused_tree_is_written(repo: Path, tmp_path: Path) -> None:
    os.symlink("/etc", repo / "pkgs/etc")
    commit(repo, "evil")
    r = parse_range("HEAD", repo)
    with pytest.raises(InputError, match="points outside the tree"):
        export(r, r.base, tmp_path / "tree")
    assert not (tmp_path / "tree").exists()


def test_no_snapshot_of_base(capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --snapshot, the shipped snapshot of BASE's commit is used; a commit none was made of is refused."""
    monkeypatch.delenv(SNAPSHOT_ENV, raising=False)
    err = refused(capsys, "estimate", "--git", "base..HEAD", "--repo", str(repo))
    assert "no snapshot of BASE" in err and "--snapshot" in err
