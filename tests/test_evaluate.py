"""impact.evaluate, the limited runner of impact.nix and the helpers of `impact eval`, without Nix."""

from __future__ import annotations

import io
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
    with pytest.raises(NixError, match="time limit of 0.5 s") as e:
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
    done = run([sys.executable, "-c", "import sys; print('out'); sys.stderr.write('trace: a\\nwarning: b\\ntrace: c\\n')"], {})
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
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@e",
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
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
    with pytest.raises(InputError, match="passwd.nix.*outside"):
        export_ref(repo, "HEAD", tmp_path / "out3")
