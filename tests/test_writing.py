"""Output files are never half-written: a write killed at any moment leaves neither the target nor a temporary
file; `impact pr`'s pair is vouched for by report.json; output paths that cannot be written are refused first."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from impact.errors import InputError
from impact.writing import DIGEST_KEY, anonymous_writes, check_output_file, check_output_folder, write_report

# A child that starts writing `target` (through write_atomic) and stops in the middle, until it is killed.
CHILD = """
import sys, time
from pathlib import Path
import impact.writing as w
from impact.cli import _exit_cleanly_on_sigterm
_exit_cleanly_on_sigterm()
w._anonymous_works = sys.argv[2] == "anonymous"
def fill(f):
    f.write(b"half of it")
    f.flush()
    Path(sys.argv[1] + ".started").write_text("")
    time.sleep(60)
w.write_atomic(Path(sys.argv[1]), fill)
"""


def _start_and_kill(folder: Path, how: str, sig: int) -> list[str]:
    target = folder / "out" / "x.impact"
    target.parent.mkdir()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target), how])
    marker = Path(str(target) + ".started")
    for _ in range(600):
        if marker.exists() or child.poll() is not None:
            break
        time.sleep(0.05)
    assert marker.exists(), "the child never began writing"
    marker.unlink()
    child.send_signal(sig)
    child.wait(timeout=30)
    return sorted(p.name for p in target.parent.iterdir())


def test_sigterm_mid_write_leaves_nothing(tmp_path: Path) -> None:
    assert _start_and_kill(tmp_path, "named", signal.SIGTERM) == []


def test_sigkill_mid_write_leaves_nothing(tmp_path: Path) -> None:
    if not anonymous_writes(tmp_path):
        pytest.skip("this system cannot write through an unnamed file (O_TMPFILE)")
    assert _start_and_kill(tmp_path, "anonymous", signal.SIGKILL) == []


def test_the_report_pair_is_vouched_for(tmp_path: Path) -> None:
    """report.json carries report.md's digest: a reader can tell the two were written together."""
    md, js = write_report(tmp_path, "## one\n", {"labels": ["10.rebuild-linux: 1-10"]})
    data = json.loads(js.read_text())
    assert data["labels"] == ["10.rebuild-linux: 1-10"]
    assert data[DIGEST_KEY] == hashlib.sha256(md.read_bytes()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]


@pytest.mark.parametrize("name", ["", "  ", "a\0b"])
def test_output_names_that_are_no_names(name: str) -> None:
    with pytest.raises(InputError, match="is not a"):
        check_output_file(name)
    with pytest.raises(InputError, match="is not a"):
        check_output_folder(name)


def test_output_kinds(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a folder"):
        check_output_file(tmp_path)
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_output_file(tmp_path / "f" / "x.impact")
    with pytest.raises(InputError, match="is a file, expected a folder"):
        check_output_folder(tmp_path / "f")
    os.mkfifo(tmp_path / "p")
    with pytest.raises(InputError, match="not a regular file"):
        check_output_file(tmp_path / "p")
    assert check_output_file(tmp_path / "new" / "x.impact") == tmp_path / "new" / "x.impact"
