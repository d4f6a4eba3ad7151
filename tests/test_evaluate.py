"""impact.evaluate, the limited runner of impact.nix and the helpers of `impact eval`, without Nix."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from impact.cli.eval import Progress, parse_size
from impact.errors import InputError, NixError
from impact.evaluate import export_ref, write_atomic
from impact.nix import Limits, limited_runner


def test_parse_size() -> None:
    assert parse_size("8G") == 8 * 1024**3
    assert parse_size("512M") == 512 * 1024**2
    assert parse_size("1.5GiB") == 3 * 1024**3 // 2
    assert parse_size("4096") == 4096
    with pytest.raises(InputError, match="not a size"):
        parse_size("lots")


def test_time_limit_kills_the_process_group() -> None:
    run = limited_runner(Limits(timeout=0.5, memory=None))
    start = time.monotonic()
    with pytest.raises(NixError, match=r"time limit of 0\.5 s") as e:
        # The shell's child would keep the pipe open if only the shell were killed.
        run(["sh", "-c", "sleep 30 & wait"], {})
    assert time.monotonic() - start < 10
    assert e.value.tip and "--timeout" in e.value.tip


def test_stderr_lines_are_offered_then_kept() -> None:
    seen: list[str] = []

    def consume(line: str) -> bool:
        seen.append(line)
        return line.startswith("trace:")

    run = limited_runner(Limits(timeout=30), consume)
    done = run(
        [sys.executable, "-c", "import sys; print('out'); sys.stderr.write('trace: a\\nwarning: b\\ntrace: c\\n')"], {}
    )
    assert done.returncode == 0 and done.stdout == "out\n"
    assert seen == ["trace: a\n", "warning: b\n", "trace: c\n"]
    assert done.stderr == "warning: b\n"


def test_memory_limit_is_set_in_the_child() -> None:
    run = limited_runner(Limits(timeout=30, memory=300 << 20))
    done = run([sys.executable, "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"], {})
    assert int(done.stdout) == 300 << 20


def test_progress_draws_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    p = Progress("evaluating x")
    p(1)
    p(2)  # within 0.1 s of the first: not redrawn
    p.done()
    assert err.getvalue() == "\revaluating x: 1 jobs evaluated\revaluating x: 2 jobs evaluated\n"
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    q = Progress("evaluating y")
    q(5)
    q.done()
    assert plain.getvalue() == ""


def test_write_atomic_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.md"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]


def test_export_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@e",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    (repo / "a.nix").write_text("1")
    for args in (["init", "-q"], ["add", "a.nix"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)
    (repo / "a.nix").write_text("2")
    commit = export_ref(repo, "HEAD", tmp_path / "out")
    assert len(commit) == 40
    assert (tmp_path / "out" / "a.nix").read_text() == "1"  # the commit, not the working tree
    assert not (tmp_path / "out" / ".git").exists()
    with pytest.raises(InputError, match="not a commit"):
        export_ref(repo, "no-such-ref", tmp_path / "out2")
    # A link out of the tree would let the evaluation read what restricted mode forbids: refused.
    (repo / "passwd.nix").symlink_to("/etc/passwd")
    for args in (["add", "passwd.nix"], ["commit", "-q", "-m", "two"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)
    with pytest.raises(InputError, match=r"passwd\.nix.*outside"):
        export_ref(repo, "HEAD", tmp_path / "out3")


FAKE_EVAL_JOBS = """#!{python}
import json, sys
with open({log!r}, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if {fail!r}:
    sys.stderr.write("error: access to absolute path '/etc/passwd' is forbidden in restricted mode\\n")
    sys.exit(1)
root = sys.argv[sys.argv.index("-I") + 1].split("=", 1)[1]
print(json.dumps({{"attr": "hello.x86_64-linux", "attrPath": ["hello", "x86_64-linux"], "name": "hello-2.10",
                  "system": "x86_64-linux", "drvPath": "/nix/store/" + "a" * 32 + "-hello-2.10.drv",
                  "outputs": {{"out": "/nix/store/" + "b" * 32 + "-hello-2.10"}},
                  "meta": {{"position": root + "/pkgs/hello/default.nix:8"}}}}))
print(json.dumps({{"attr": "broken.x86_64-linux", "attrPath": ["broken", "x86_64-linux"], "error": "boom"}}))
"""


def fake_tool(tmp_path: Path, fail: bool = False) -> tuple[str, Path]:
    log = tmp_path / "argv.jsonl"
    tool = tmp_path / "nix-eval-jobs"
    tool.write_text(FAKE_EVAL_JOBS.format(python=sys.executable, log=str(log), fail=fail))
    tool.chmod(0o755)
    return str(tool), log


def test_nix_eval_jobs_command_and_lines(tmp_path: Path) -> None:
    """The flags nix-eval-jobs gets (restricted, no IFD, only the checkout, store, memory, workers), one call
    per jobset, lines tagged with their jobset and counted as they arrive."""
    from impact.nix import Nix, eval_release_with_eval_jobs

    tool, log = fake_tool(tmp_path)
    counts: list[int] = []
    lines = eval_release_with_eval_jobs(
        Nix(store="local?root=/tmp/x"),
        tmp_path,
        ["x86_64-linux", "i686-linux"],
        nixos=True,
        limits=Limits(timeout=30, memory=2 << 30),
        on_job=counts.append,
        workers=3,
        tool=tool,
    )
    assert [(x["jobset"], x["attr"]) for x in lines] == [
        ("nixpkgs", "hello.x86_64-linux"),
        ("nixpkgs", "broken.x86_64-linux"),
        ("nixos", "hello.x86_64-linux"),
        ("nixos", "broken.x86_64-linux"),
    ]
    assert counts == [1, 2, 3, 4]
    calls = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(calls) == 2
    argv = calls[0]
    pairs = {(argv[i], argv[i + 1]) for i in range(len(argv) - 1)}
    for flag in [
        ("--workers", "3"),
        ("--max-memory-size", "2048"),
        ("-I", f"nixpkgs={tmp_path.resolve()}"),
        ("restrict-eval", "true"),
        ("allow-import-from-derivation", "false"),
        ("store", "local?root=/tmp/x"),
    ]:
        assert flag in pairs, flag
    assert "--meta" in argv and "--force-recurse" in argv
    expr = argv[argv.index("--expr") + 1]
    assert "import <nixpkgs/pkgs/top-level/release.nix>" in expr and '[ "x86_64-linux" "i686-linux" ]' in expr
    nixos_expr = calls[1][calls[1].index("--expr") + 1]
    assert "import <nixpkgs/nixos/release.nix>" in nixos_expr and '[ "x86_64-linux" ]' in nixos_expr


def test_nix_eval_jobs_refusal_is_one_line(tmp_path: Path) -> None:
    from impact.nix import Nix, eval_release_with_eval_jobs

    tool, _ = fake_tool(tmp_path, fail=True)
    with pytest.raises(NixError, match=r"refused: access to absolute path '/…' is forbidden") as e:
        eval_release_with_eval_jobs(Nix(), tmp_path, ["x86_64-linux"], limits=Limits(timeout=30), tool=tool)
    assert e.value.tip and "only itself" in e.value.tip


def test_an_evaluation_gets_none_of_impacts_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nix evaluating a tree gets only what it needs: a token or secret of impact's environment is not there for
    any way the evaluated code might find to read it; NIX_PATH is not either (only the checkout is searched)."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secretSecret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    monkeypatch.setenv("NIX_PATH", "nixpkgs=/elsewhere")
    monkeypatch.setenv("NIX_REMOTE", "daemon")
    run = limited_runner(Limits(timeout=30), clean_environment=True)
    seen = dict(line.split("=", 1) for line in run(["env"], {"XDG_CACHE_HOME": "/c"}).stdout.splitlines())
    assert "GITHUB_TOKEN" not in seen and "AWS_SECRET_ACCESS_KEY" not in seen and "NIX_PATH" not in seen
    assert seen["NIX_REMOTE"] == "daemon" and seen["XDG_CACHE_HOME"] == "/c" and "PATH" in seen


def test_a_deadline_covers_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once started, the limits' clock runs for all processes: the second process gets only what is left, and
    none starts after the deadline."""
    limits = Limits(timeout=1.0, memory=None).started()
    assert limits.started() is limits and Limits(timeout=None).started().left() is None
    run = limited_runner(limits)
    run(["sleep", "0.6"], {})
    start = time.monotonic()
    with pytest.raises(NixError, match=r"time limit of 1 s"):
        run(["sleep", "5"], {})
    assert time.monotonic() - start < 1.0
    with pytest.raises(NixError, match=r"time limit of 1 s") as e:
        run(["true"], {})
    assert e.value.limit
