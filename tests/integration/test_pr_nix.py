"""`impact eval` and `impact pr` end to end with real Nix, on the small nixpkgs-like tree in fixtures_nixpkgs/.

The test makes a git repository of two commits in a temp dir (the second edits curl and libfoo and adds
newpkg), runs `impact pr HEAD~1 HEAD`, and checks the jobs it reports against what Nix itself says: the
output paths of every job of both release files, read with a plain `nix-instantiate --eval` of the release
files, compared here without impact's code. The Markdown is compared with tests/golden/pr-fixture.md
(regenerate with IMPACT_UPDATE_GOLDEN=1 and read the diff).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from impact.cli import main
from tests.conftest import require_nix

FIXTURE = Path(__file__).parent / "fixtures_nixpkgs"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "pr-fixture.md"
SYSTEMS = ["x86_64-linux", "i686-linux"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_AUTHOR_DATE": "2016-06-24T12:00:00Z",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_COMMITTER_DATE": "2016-06-24T12:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}

pytestmark = pytest.mark.nix


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    ).stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with the fixture as its first commit and a pull request's change as its second."""
    require_nix()
    repo = tmp_path_factory.mktemp("nixpkgs") / "nixpkgs"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    edit(
        repo / "pkgs/tools/curl/default.nix",
        'name = "curl-7.49.1";',
        'name = "curl-7.49.1";\n  configureFlags = [ "--with-ssl" ];',
    )
    edit(repo / "pkgs/development/libfoo/default.nix", 'name = "libfoo-1.0";', 'name = "libfoo-1.1";')
    (repo / "pkgs/applications/newpkg").mkdir()
    (repo / "pkgs/applications/newpkg/default.nix").write_text(
        '{ stdenv, ... }:\nstdenv.mkDerivation {\n  name = "newpkg-0.1";\n  meta = { description = "New"; maintainers = [ "erin" ]; };\n}\n'
    )
    edit(
        repo / "pkgs/top-level/all-packages.nix",
        "    bar = ",
        "    newpkg = callPackage ../applications/newpkg { };\n    bar = ",
    )
    edit(
        repo / "pkgs/top-level/release.nix",
        '  bar = forAll "bar";',
        '  bar = forAll "bar";\n  newpkg = forAll "newpkg";',
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "curl: ssl; libfoo: 1.1; newpkg: init")
    return repo


def nix_outputs(tree: Path, store: Path) -> dict[tuple[str, str], list[str] | None]:
    """(jobset, attr) → the output paths of every job, straight from nix-instantiate (None: it throws)."""
    expr = f"""
      let
        outs = d: let r = builtins.tryEval (map (o: d.${{o}}.outPath) d.outputs); in if r.success then r.value else null;
        pkgs = import {tree}/pkgs/top-level/release.nix {{ supportedSystems = {json.dumps(SYSTEMS).replace(",", " ")}; }};
        nixos = import {tree}/nixos/release.nix {{ nixpkgs = {{ outPath = {tree}; }}; supportedSystems = [ "x86_64-linux" ]; }};
      in {{
        nixpkgs = builtins.mapAttrs (n: v: builtins.mapAttrs (s: outs) v) pkgs;
        nixos = {{ "nixos-version.x86_64-linux" = outs nixos.nixos-version.x86_64-linux;
                   "tests.bar.x86_64-linux" = outs nixos.tests.bar.x86_64-linux; }};
      }}"""
    out = subprocess.run(
        ["nix-instantiate", "--store", f"local?root={store}", "--eval", "--strict", "--json", "-E", expr],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    found: dict[tuple[str, str], list[str] | None] = {}
    for pkg, per in data["nixpkgs"].items():
        for system, paths in per.items():
            found[("nixpkgs", f"{pkg}.{system}")] = paths
    for attr, paths in data["nixos"].items():
        found[("nixos", attr)] = paths
    return found


def test_pr_gives_exactly_the_jobs_nix_changed(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    out = tmp_path / "report"
    code = main(
        [
            "pr",
            "HEAD~1",
            "HEAD",
            "--repo",
            str(repo),
            "-o",
            str(out),
            *(a for s in SYSTEMS for a in ("--system", s)),
            "--nixos",
            "--store",
            f"local?root={store}",
            "--timeout",
            "120",
            "--memory",
            "4G",
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    diff = report["diff"]

    # What Nix says, evaluated here from the two trees without impact.
    trees = {}
    for ref in ("HEAD~1", "HEAD"):
        tree = tmp_path / ref.replace("~", "-")
        tree.mkdir()
        archive = subprocess.run(["git", "-C", str(repo), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        trees[ref] = nix_outputs(tree, tmp_path / "truth-store")
    before = {k: v for k, v in trees["HEAD~1"].items() if v is not None}
    after = {k: v for k, v in trees["HEAD"].items() if v is not None}
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    added = sorted(after.keys() - before.keys())
    assert sorted((js, a) for js, attrs in diff["changed"].items() for a in attrs) == changed
    assert sorted((js, a) for js, attrs in diff["added"].items() for a in attrs) == added
    assert diff["removed"] == {"nixpkgs": [], "nixos": []}

    # And by hand: curl and libfoo were edited, bar takes libfoo, the NixOS test takes bar, the version file
    # embeds the source tree; hello's source is a fixed-output fetch whose builder uses curl, so it stays.
    assert changed == [
        ("nixos", "nixos-version.x86_64-linux"),
        ("nixos", "tests.bar.x86_64-linux"),
        ("nixpkgs", "bar.i686-linux"),
        ("nixpkgs", "bar.x86_64-linux"),
        ("nixpkgs", "curl.i686-linux"),
        ("nixpkgs", "curl.x86_64-linux"),
        ("nixpkgs", "libfoo.i686-linux"),
        ("nixpkgs", "libfoo.x86_64-linux"),
    ]
    assert added == [("nixpkgs", "newpkg.i686-linux"), ("nixpkgs", "newpkg.x86_64-linux")]
    # curl ×2, libfoo ×2, bar ×2, newpkg ×2, the NixOS test and the version file.
    assert diff["derivations_to_build"] == 10

    cross = diff["cross_check"]
    assert cross["agrees"] is True
    assert (
        cross["estimate_derivations_to_build"] == diff["derivations_to_build"] == diff["derivations_with_new_outputs"]
    )
    assert not [f for f in cross["findings"] if f["check"] == "head-check"]
    roots = sorted((r["name"], r["system"], r["base_name"], r["paired_by"]) for r in diff["roots"])
    assert roots == [
        ("curl-7.49.1", "i686-linux", "curl-7.49.1", "job"),
        ("curl-7.49.1", "x86_64-linux", "curl-7.49.1", "job"),
        ("libfoo-1.1", "i686-linux", "libfoo-1.0", "job"),
        ("libfoo-1.1", "x86_64-linux", "libfoo-1.0", "job"),
        ("newpkg-0.1", "i686-linux", None, "new"),
        ("newpkg-0.1", "x86_64-linux", None, "new"),
        ("nixos-16.09pre-git", "x86_64-linux", "nixos-16.09pre-git", "job"),
    ]
    # 4 packages (curl, libfoo, bar, newpkg) on linux, none on darwin.
    # No darwin system was evaluated: no darwin label (CI would otherwise remove a true one on no evidence).
    assert report["labels"] == ["10.rebuild-linux: 1-10"]
    assert report["maintainers"] == ["alice", "bob", "erin"]

    # The reproduce line names the temporary repository and store: shown as placeholders in the golden file.
    markdown = (out / "report.md").read_text().replace(str(repo), "<repo>").replace(str(store), "<store>")
    if os.environ.get("IMPACT_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(markdown)
    assert markdown == GOLDEN.read_text()


def test_a_job_that_no_longer_evaluates_reaches_the_comment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """HEAD makes hello throw: Nix records an evaluation error for each system, and the comment lists them."""
    require_nix()
    repo = tmp_path / "nixpkgs"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    edit(
        repo / "pkgs/top-level/all-packages.nix",
        "hello = callPackage ../applications/hello { };",
        'hello = throw "hello: needs libfoo 2";',
    )
    git(repo, "commit", "-q", "-am", "hello: break it")
    out = tmp_path / "report"
    store = f"local?root={tmp_path / 'store'}"
    args = ["pr", "HEAD~1", "HEAD", "--repo", str(repo), "-o", str(out), "--store", store, "--timeout", "120"]
    assert main([*args, *(a for s in SYSTEMS for a in ("--system", s))]) == 0, capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    failing = [(e["jobset"], e["attr"], e["base_jobs"]) for e in report["diff"]["new_eval_errors"]]
    assert failing == [("nixpkgs", "hello.i686-linux", 1), ("nixpkgs", "hello.x86_64-linux", 1)]
    markdown = (out / "report.md").read_text()
    assert markdown.index("2 attributes (2 jobs in the base) no longer evaluate") < markdown.index("Reproduce with")
    assert "- nixpkgs: `hello.x86_64-linux` (1 job in the base): `" in markdown


def malicious_tree(tmp_path: Path, release: str) -> Path:
    tree = tmp_path / "evil"
    shutil.copytree(FIXTURE, tree)
    (tree / "pkgs/top-level/release.nix").write_text(release)
    return tree


def run_eval(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *limits: str) -> tuple[int, str, float]:
    """Run `impact eval` on `tree`: exit code, stderr, seconds taken (stdout is left in capsys)."""
    start = time.monotonic()
    code = main(
        ["eval", str(tree), "-o", str(tmp_path / "snap"), "--store", f"local?root={tmp_path / 'store'}", *limits]
    )
    took = time.monotonic() - start
    captured = capsys.readouterr()
    print(captured.out, end="")
    return code, captured.err, took


OK_JOB = 'ok = builtins.derivation { name = "ok"; system = "x86_64-linux"; builder = "/bin/sh"; };'


def snapshot_lines(folder: Path) -> list[dict]:
    """The job lines `impact eval` wrote."""
    return [json.loads(x) for x in gzip.decompress((folder / "jobs.jsonl.gz").read_bytes()).decode().splitlines()]


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "steal = builtins.readFile /etc/passwd;",
            # no path of this machine outside the tree reaches the report, not even one the tree named
            "access to absolute path '/…' is forbidden in restricted mode at pkgs/top-level/release.nix:2:",
        ),
        (
            "steal = import <nixpkgs/../../../../../../etc/passwd>;",
            "is forbidden in restricted mode at pkgs/top-level/release.nix:2:",
        ),
        (
            'net = import (builtins.fetchurl "https://example.org/x.nix");',
            "access to URI 'https://example.org/x.nix' is forbidden",
        ),
        ('gone = abort "left";', "evaluation aborted with the following error message: 'left'"),
    ],
)
def test_a_job_reading_outside_the_tree_is_an_error_the_rest_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    """As on Hydra: an error tryEval cannot catch (forbidden path, URI, abort) fails that job only; the message
    keeps Nix's location, relative to the tree."""
    require_nix()
    tree = malicious_tree(tmp_path, "{ supportedSystems ? [ ] }:\n{ " + body + " " + OK_JOB + " }\n")
    code, err, _ = run_eval(tree, tmp_path, capsys, "--timeout", "60")
    assert code == 0, err
    lines = snapshot_lines(tmp_path / "snap")
    assert [x["attr"] for x in lines if "error" not in x] == ["ok"]
    (error,) = [x for x in lines if "error" in x]
    assert message in error["error"], error
    assert "root:" not in error["error"]  # only the path was named, nothing was read


def test_a_tree_that_reads_outside_before_any_job_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No job to blame (release.nix itself reads outside): the whole evaluation is refused with one line."""
    require_nix()
    tree = malicious_tree(
        tmp_path, "{ supportedSystems ? [ ] }:\nbuiltins.seq (builtins.readFile /etc/passwd) { " + OK_JOB + " }\n"
    )
    code, err, _ = run_eval(tree, tmp_path, capsys, "--timeout", "60")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0] and "access to absolute path '/…' is forbidden" in lines[0], err
    assert not (tmp_path / "snap").exists()


def test_an_endless_loop_is_stopped_by_the_time_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_nix()
    # 2^60 calls, 60 deep: runs for ever in little memory.
    tree = malicious_tree(
        tmp_path,
        "{ supportedSystems ? [ ] }:\nlet f = n: if n == 0 then 1 else f (n - 1) + f (n - 1); in { spin = f 60; }\n",
    )
    code, err, took = run_eval(tree, tmp_path, capsys, "--timeout", "2", "--memory", "3G")
    assert code == 2
    assert err.strip().splitlines() == [
        "impact: error: nix-instantiate stopped: it ran over the time limit of 2 s "
        "(tip: look for an endless loop in the evaluated tree, or raise --timeout)"
    ]
    assert took < 20


def test_an_endless_allocation_is_stopped_by_the_memory_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_nix()
    tree = malicious_tree(
        tmp_path, "{ supportedSystems ? [ ] }:\n{ grow = builtins.length (builtins.genList (x: x) 1000000000); }\n"
    )
    code, err, took = run_eval(tree, tmp_path, capsys, "--timeout", "60", "--memory", "512M")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "stopped: it ran over the memory limit of 512 MiB" in lines[0], err
    assert took < 20


def test_a_failing_job_is_recorded_not_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_nix()
    code, _, _ = run_eval(FIXTURE, tmp_path, capsys, "--system", "x86_64-linux", "--json")
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["jobs"] == {"nixpkgs": 4} and summary["errors"] == 1
    lines = [
        json.loads(x) for x in gzip.decompress((tmp_path / "snap" / "jobs.jsonl.gz").read_bytes()).decode().splitlines()
    ]
    errors = [x["attr"] for x in lines if "error" in x]
    assert errors == ["broken.x86_64-linux"]
    assert sorted(x["attr"] for x in lines if "error" not in x) == [
        "bar.x86_64-linux",
        "curl.x86_64-linux",
        "hello.x86_64-linux",
        "libfoo.x86_64-linux",
    ]
    assert {x["meta"]["position"] for x in lines if x["attr"] == "bar.x86_64-linux"} == {
        "pkgs/applications/bar/default.nix:5"
    }


def test_diff_takes_a_ref_and_a_checkout(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`impact diff` evaluates a git ref and a checkout folder itself; the working tree is the head commit."""
    code = main(
        [
            "diff",
            "HEAD~1",
            str(repo),
            "--repo",
            str(repo),
            "--system",
            "x86_64-linux",
            "--store",
            f"local?root={tmp_path / 'store'}",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    # The checkout folder holds .git, but only pkgs/ and nixos/ files are read: the same jobs change.
    assert out["changed"] == {"nixpkgs": ["bar.x86_64-linux", "curl.x86_64-linux", "libfoo.x86_64-linux"]}
    assert out["added"] == {"nixpkgs": ["newpkg.x86_64-linux"]}
    assert out["cross_check"]["agrees"] is True


def test_eval_of_a_git_checkout_names_its_commit_and_branch(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`impact eval` of a git work tree records its commit, branch and date; `snapshot info` names them. A ref
    `impact diff` / `pr` exports records its own."""
    from impact import app
    from impact.cli.eval import Progress, make_limits, make_nix

    store = f"local?root={tmp_path / 'store'}"
    snap = tmp_path / "snap"
    assert main(["eval", str(repo), "-o", str(snap), "--system", "x86_64-linux", "--store", store]) == 0
    capsys.readouterr()
    assert main(["snapshot", "info", str(snap), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert (info["commit"], info["branch"], info["date"], info["modified"]) == (head, "master", "2016-06-24", False)
    request = app.EvaluationRequest("HEAD~1", "HEAD", repo, ("x86_64-linux",))
    base = app.side_graph(
        "HEAD~1", "base", request, tmp_path / "work", lambda: make_nix(store), make_limits(120, "2G"), Progress
    )
    assert base.meta["commit"] == git(repo, "rev-parse", "HEAD~1").strip() and "branch" not in base.meta


def test_the_environment_stays_out_and_jobs_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret in impact's environment cannot reach the evaluation (restricted mode empties getEnv), and the
    progress callback sees every job once, in order."""
    require_nix()
    from impact.nix import Limits, eval_release, isolated_nix

    monkeypatch.setenv("IMPACT_TEST_SECRET", "hunter2")
    tree = malicious_tree(
        tmp_path,
        '{ supportedSystems ? [ ] }:\n{ leak = builtins.derivation { name = "x-" + builtins.getEnv "IMPACT_TEST_SECRET"; '
        'system = "x86_64-linux"; builder = "/bin/sh"; }; a.b = builtins.derivation { name = "y"; system = "i686-linux"; builder = "/bin/sh"; }; }\n',
    )
    counts: list[int] = []
    lines = eval_release(
        isolated_nix(tmp_path / "store"), tree, ["x86_64-linux"], limits=Limits(timeout=60), on_job=counts.append
    )
    assert [(x["attr"], x["name"]) for x in lines] == [("a.b", "y"), ("leak", "x-")]
    assert counts == [1, 2]
