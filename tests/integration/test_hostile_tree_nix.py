"""A pull request's author writes the tree impact evaluates: real Nix on small hostile trees.

Each test is an attack that worked before the fix it guards (docs/hardening.md, "A hostile tree"):
- fake jobs whose `drvPath` strings were options for `nix show-derivation` ran a shell command;
- a git ref that reads as an option;
- jobs that stop Nix one after the other turned `--timeout 3` into 20 s;
- `builtins.toFile` in a loop filled the disk, and a failed evaluation left its store behind;
- a link out of the tree, or `~`, put paths of this machine into the report.
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
from impact.nix import store_size
from tests.conftest import require_nix

FIXTURE = Path(__file__).parent / "fixtures_nixpkgs"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Mallory",
    "GIT_AUTHOR_EMAIL": "m@example.org",
    "GIT_COMMITTER_NAME": "Mallory",
    "GIT_COMMITTER_EMAIL": "m@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}
OK_JOB = 'ok = builtins.derivation { name = "ok"; system = "x86_64-linux"; builder = "/bin/sh"; };'

pytestmark = pytest.mark.nix


def tree(tmp_path: Path, release: str, name: str = "evil") -> Path:
    """A checkout holding only pkgs/top-level/release.nix with `release`."""
    root = tmp_path / name
    (root / "pkgs" / "top-level").mkdir(parents=True)
    (root / "pkgs" / "top-level" / "release.nix").write_text(release)
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, float]:
    """`impact ARGS…`: exit code, stderr, seconds."""
    start = time.monotonic()
    code = main(list(args))
    return code, capsys.readouterr().err, time.monotonic() - start


def job_lines(folder: Path) -> list[dict]:
    return [json.loads(x) for x in gzip.decompress((folder / "jobs.jsonl.gz").read_bytes()).decode().splitlines()]


def fake_jobs(marker: Path) -> str:
    """A release.nix whose jobs are attribute sets that say they are derivations, with drvPath strings that
    `nix show-derivation -r PATHS…` would read as `--option allow-unsafe-native-code-during-evaluation true
    --impure --expr <a command>`, and other strings that are not .drv paths of the store."""
    command = f'builtins.exec [ "/bin/sh" "-c" "touch {marker}; echo 1" ]'
    strings = [
        "--option",
        "allow-unsafe-native-code-during-evaluation",
        "true",
        "--impure",
        "--expr",
        command,
        "/nix/store/../../etc/passwd.drv",
        "/nix/store/" + "0" * 32 + "-absent.drv",  # the right shape, but Nix never wrote it
        "./pkgs/top-level/release.nix",
    ]
    fakes = (
        " ".join(f"a{i} = fake {json.dumps(s)};" for i, s in enumerate(strings))
        + ' toFile = fake (builtins.toFile "x.drv" "Derive()");'
    )
    return (
        "{ supportedSystems ? [ ] }:\n"
        'let out = "/nix/store/' + "1" * 32 + '-fake";\n'
        '  fake = p: { type = "derivation"; name = "fake"; system = "x86_64-linux"; drvPath = p;\n'
        '    outPath = out; outputs = [ "out" ]; out = { outPath = out; }; };\n'
        'in { badOutput = { type = "derivation"; name = "o"; system = "x"; drvPath = (builtins.derivation { name = "o";'
        ' system = "x"; builder = "/bin/sh"; }).drvPath; outputs = [ "out" ]; out.outPath = "--impure"; };\n'
        f"  {fakes}\n  {OK_JOB}\n}}\n"
    )


def test_fake_drv_paths_run_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every string of a job is the tree's: a drvPath that is not a .drv the evaluation wrote is that job's
    evaluation error (as on Hydra), and never reaches a command line."""
    require_nix()
    marker = tmp_path / "pwned"
    root = tree(tmp_path, fake_jobs(marker))
    snap = tmp_path / "snap"
    code, err, _ = run(capsys, "eval", str(root), "-o", str(snap), "--store", f"local?root={tmp_path / 'store'}")
    assert not marker.exists(), "the tree ran a command through impact"
    assert code == 0, err
    lines = job_lines(snap)
    assert [x["attr"] for x in lines if "error" not in x] == ["ok"]
    errors = {x["attr"]: x["error"] for x in lines if "error" in x}
    assert len(errors) == 11, errors
    # A store file named .drv that is none: Nix itself refuses it while evaluating the job.
    assert "error parsing derivation" in errors.pop("toFile")
    assert all(e.startswith("not a derivation: ") for e in errors.values()), errors
    assert errors["badOutput"] == "not a derivation: its output out is not a store path in /nix/store"
    assert errors["a7"] == "not a derivation: its drvPath is not a derivation the evaluation wrote to the store"


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A git repository: the fixture tree, then a commit that makes its release.nix hostile (fake jobs)."""
    require_nix()
    marker = tmp_path / "pwned"
    repo = tmp_path / "nixpkgs"
    shutil.copytree(FIXTURE, repo)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})

    git("init", "-q", "-b", "master")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    (repo / "pkgs/top-level/release.nix").write_text(fake_jobs(marker))
    git("commit", "-q", "-am", "innocent")
    return repo, marker


def test_a_pull_request_of_git_refs_runs_nothing(
    hostile_repo: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, marker = hostile_repo
    store = f"local?root={tmp_path / 'store'}"
    out = tmp_path / "report"
    code, err, _ = run(capsys, "pr", "HEAD~1", "HEAD", "--repo", str(repo), "-o", str(out), "--store", store)
    assert not marker.exists(), "the tree ran a command through impact"
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    assert report["diff"]["added"] == {"nixpkgs": ["ok"]}


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "-h", "--upload-pack=touch /tmp/x"])
def test_a_ref_that_reads_as_an_option_is_refused(
    hostile_repo: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    repo, _ = hostile_repo
    code, err, _ = run(capsys, "pr", "--repo", str(repo), "-o", str(tmp_path / "r"), "--", ref, "HEAD")
    assert code == 2
    assert err.count("\n") == 1 and "is not a git ref (it would read as an option)" in err, err


def aborting_jobs() -> str:
    """150 jobs that each stop Nix with an error tryEval cannot catch, after a little work, so impact sets each
    aside and evaluates the rest again (100 times), then explains (25 more runs)."""
    return (
        "{ supportedSystems ? [ ] }:\n"
        "let heavy = builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 400000); in\n"
        'builtins.listToAttrs (builtins.genList (i: { name = "j${toString i}"; '
        'value = builtins.seq heavy (abort "no ${toString i}"); }) 150)\n'
    )


def test_the_time_limit_is_one_deadline_for_the_whole_evaluation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, each of the ~100 Nix processes had its own 3 s: the evaluation ran 20 s. Now 3 s is all of it, and
    the private store the stopped evaluation wrote to is collected."""
    require_nix()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tree(tmp_path, aborting_jobs())
    code, err, took = run(capsys, "eval", str(root), "-o", str(tmp_path / "snap"), "--timeout", "3")
    assert code == 2
    assert err.strip().splitlines() == [
        "impact: error: nix-instantiate stopped: it ran over the time limit of 3 s "
        "(tip: look for an endless loop in the evaluated tree, or raise --timeout)"
    ]
    assert took < 8, took  # 3 s, the time to kill and collect; 21.9 s before
    assert not (tmp_path / "snap").exists()


def test_a_failed_evaluation_leaves_nothing_in_the_private_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the outcome, impact's private store is collected: here the evaluation writes .drv files and
    then runs out of time."""
    require_nix()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    jobs = " ".join(
        f'd{i} = builtins.derivation {{ name = "d{i}"; system = "x86_64-linux"; builder = "/bin/sh"; }};'
        for i in range(20)
    )
    # The last job's derivation takes for ever to compute, after the others' .drv files are written.
    spin = (
        'z = builtins.derivation { name = "z"; system = "x86_64-linux"; builder = "/bin/sh"; '
        "slow = let f = n: if n == 0 then 1 else f (n - 1) + f (n - 1); in f 60; };"
    )
    root = tree(tmp_path, "{ supportedSystems ? [ ] }:\n{ " + jobs + " " + spin + " }\n")
    code, err, _ = run(capsys, "eval", str(root), "-o", str(tmp_path / "snap"), "--timeout", "3")
    assert code == 2 and "time limit" in err, err
    store = tmp_path / "cache" / "impact" / "nix" / "nix" / "store"
    assert store.is_dir() and not [p.name for p in store.iterdir() if p.name.endswith(".drv")]


def test_the_store_may_grow_only_so_much(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`builtins.toFile` writes into the store while evaluating: 400 MiB here, stopped past --store-limit, and
    the store collected afterwards."""
    require_nix()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fill = (
        "{ supportedSystems ? [ ] }:\n"
        'let mib = builtins.concatStringsSep "" (builtins.genList (x: "0123456789abcdef") 65536); in\n'
        '{ fill = builtins.derivation { name = "fill"; system = "x86_64-linux"; builder = "/bin/sh";\n'
        '    junk = builtins.genList (i: builtins.toFile "junk-${toString i}" "${toString i}${mib}") 400; };\n'
        f"  {OK_JOB} }}\n"
    )
    root = tree(tmp_path, fill)
    code, err, _ = run(capsys, "eval", str(root), "-o", str(tmp_path / "snap"), "--store-limit", "64M")
    assert code == 2
    assert err.strip().splitlines() == [
        "impact: error: nix-instantiate stopped: the evaluation wrote over the store limit of 64 MiB "
        "(tip: look for builtins.toFile or paths copied without end in the evaluated tree, or raise --store-limit)"
    ]
    assert store_size(tmp_path / "cache" / "impact" / "nix") < 1 << 20
    assert not (tmp_path / "snap").exists()


@pytest.mark.parametrize("target", ["/etc/passwd", "/nonexistent/secret", "../../../../../../../etc"])
def test_a_link_out_of_the_tree_is_refused_before_evaluating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """Nix would follow it and name the resolved path in its error (and whether it exists by which error)."""
    require_nix()
    root = tree(tmp_path, "{ supportedSystems ? [ ] }:\n{ steal = builtins.readFile ./x.nix; " + OK_JOB + " }\n")
    (root / "pkgs" / "x").mkdir()
    (root / "pkgs" / "x" / "inside.nix").symlink_to("../top-level/release.nix")  # stays inside: fine
    (root / "pkgs" / "top-level" / "x.nix").symlink_to(target)
    store = tmp_path / "store"
    code, err, _ = run(capsys, "eval", str(root), "-o", str(tmp_path / "snap"), "--store", f"local?root={store}")
    assert code == 2
    assert err.count("\n") == 1, err
    assert "pkgs/top-level/x.nix is a link to a path outside the tree; refused before evaluating" in err
    assert target not in err and not store.exists() and not (tmp_path / "snap").exists()


def test_no_path_of_this_machine_reaches_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`~` is expanded by Nix's parser and a forbidden path is named in the error that goes into the comment:
    the home folder (and any path outside the tree) is written `/…`; paths in the tree stay relative."""
    require_nix()
    home = os.path.expanduser("~")
    body = 'home = builtins.readFile ~/.impact-probe; abs = builtins.readFile "/etc/hostname";'
    root = tree(tmp_path, "{ supportedSystems ? [ ] }:\n{ " + body + " " + OK_JOB + " }\n")
    snap = tmp_path / "snap"
    code, err, _ = run(capsys, "eval", str(root), "-o", str(snap), "--store", f"local?root={tmp_path / 'store'}")
    assert code == 0, err
    errors = {x["attr"]: x["error"] for x in job_lines(snap) if "error" in x}
    assert errors["home"].startswith("access to absolute path '/…' is forbidden in restricted mode at ")
    assert errors["home"].endswith("pkgs/top-level/release.nix:2:10"), errors
    text = json.dumps(errors)
    assert home not in text and "/etc/hostname" not in text and str(root) not in text


def test_nix_28_reads_no_option_from_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What impact's command lines rely on, on the Nix it runs: `nix show-derivation` reads what follows `--`
    as paths (`--option …` there is a path that does not exist, not a setting), and a file named like an
    option reaches nix-instantiate as a file (impact passes it absolute: Nix 2.8's nix-instantiate reads its
    own flags even after `--`)."""
    require_nix()
    from impact.nix import isolated_nix

    nix = isolated_nix(tmp_path / "store")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "--version").write_text(
        'builtins.derivation { name = "x"; system = "x86_64-linux"; builder = "/bin/sh"; }'
    )
    assert nix.eval_json("--version", attr="name") == "x"
    (drv,) = nix.instantiate("--version")
    assert list(nix.show_derivation([drv])) == [drv]
    marker = tmp_path / "ran"
    shown = subprocess.run(
        [*nix.command("nix", "show-derivation", "-r", "--", "--option"), "allow-unsafe-native-code-during-evaluation",
         "true", "--impure", "--expr", f'builtins.exec [ "/bin/sh" "-c" "touch {marker}; echo 1" ]'],
        capture_output=True, text=True, env={**os.environ, **nix.env},
    )  # fmt: skip
    assert shown.returncode != 0 and "--option" in shown.stderr and not marker.exists()
