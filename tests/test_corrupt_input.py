"""Corrupt input through the command line: one line on stderr naming the file and the problem, exit code 2,
no traceback."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from impact.cli import main
from impact.loaders import EMBEDDED_SNAPSHOT

FIXTURE = Path(__file__).parent / "fixtures" / "show_derivation" / "nix-2.8.json"
GOOD_LINE = '{"attr": "hello.x86_64-linux", "system": "x86_64-linux", "drvPath": "/nix/store/7ws8s98v20pgrmkz5c4s8a99lhy07qbd-hello-2.10.drv"}\n'
MISSING_INPUT_DRV = (
    'Derive([("out","/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-app","","")],'
    '[("/nix/store/cccccccccccccccccccccccccccccccc-lib.drv",["out"])],[],"x86_64-linux","/bin/sh",[],[("name","app")])'
)


def _truncated_gzip(tmp: Path) -> tuple[Path, str]:
    data = gzip.compress(FIXTURE.read_bytes())
    path = tmp / "derivations.json.gz"
    path.write_bytes(data[: len(data) // 2])
    return path, "corrupt gzip data"


def _truncated_gzip_in_folder(tmp: Path) -> tuple[Path, str]:
    folder = tmp / "snap"
    folder.mkdir()
    (folder / "jobs.jsonl.gz").write_bytes(gzip.compress(GOOD_LINE.encode()))
    data = gzip.compress(FIXTURE.read_bytes())
    (folder / "derivations.json.gz").write_bytes(data[: len(data) - 20])
    return folder / "derivations.json.gz", "corrupt gzip data"


def _bad_json(tmp: Path) -> tuple[Path, str]:
    path = tmp / "derivations.json"
    path.write_text(FIXTURE.read_text()[:500])
    return path, "not valid JSON at line"


def _bad_jobs_line(tmp: Path) -> tuple[Path, str]:
    folder = tmp / "snap"
    folder.mkdir()
    (folder / "jobs.jsonl.gz").write_bytes(gzip.compress((GOOD_LINE + '{"attr": "x", \n').encode()))
    (folder / "derivations.json.gz").write_bytes(gzip.compress(FIXTURE.read_bytes()))
    return folder / "jobs.jsonl.gz", ":2: not valid JSON"


def _not_aterm(tmp: Path) -> tuple[Path, str]:
    path = tmp / "dddddddddddddddddddddddddddddddd-hello.drv"
    path.write_text('{"this": "is JSON, not ATerm"}')
    return path, "not a Nix derivation (ATerm): expected 'Derive(' (is this a .drv file?) at line 1, column 1"


def _missing_input_drv(tmp: Path) -> tuple[Path, str]:
    path = tmp / "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-app.drv"
    path.write_text(MISSING_INPUT_DRV)
    return path, "names derivation cccccccccccccccccccccccccccccccc-lib.drv, which is missing"


def _missing_file(tmp: Path) -> tuple[Path, str]:
    return tmp / "nowhere.impact", "no such snapshot"


def _truncated_impact(tmp: Path) -> tuple[Path, str]:
    data = EMBEDDED_SNAPSHOT.read_bytes()
    path = tmp / "snapshot.impact"
    path.write_bytes(data[: len(data) // 2])
    return path, "damaged impact snapshot"


def _flipped_impact(tmp: Path) -> tuple[Path, str]:
    data = bytearray(EMBEDDED_SNAPSHOT.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    path = tmp / "snapshot.impact"
    path.write_bytes(bytes(data))
    return path, "damaged impact snapshot"


def _empty_folder(tmp: Path) -> tuple[Path, str]:
    folder = tmp / "empty"
    folder.mkdir()
    return folder, "no .drv files and not a snapshot folder"


CASES: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "truncated-gzip": _truncated_gzip,
    "truncated-gzip-in-folder": _truncated_gzip_in_folder,
    "bad-json": _bad_json,
    "bad-jobs-line": _bad_jobs_line,
    "drv-not-aterm": _not_aterm,
    "missing-input-drv": _missing_input_drv,
    "missing-file": _missing_file,
    "truncated-impact": _truncated_impact,
    "flipped-impact": _flipped_impact,
    "empty-folder": _empty_folder,
}


def _check(code: int, stderr: str, named: Path, problem: str) -> None:
    assert code == 2
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("impact: error: ")
    assert named.name in lines[0] and problem in lines[0], lines[0]


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_corrupt_input_is_one_line_and_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    named, problem = CASES[case](tmp_path)
    snapshot = named.parent if case in ("truncated-gzip-in-folder", "bad-jobs-line") else named
    code = main(["estimate", "qemu", "--snapshot", str(snapshot)])
    captured = capsys.readouterr()
    assert captured.out == ""
    _check(code, captured.err, named, problem)


def test_corrupt_input_in_a_real_process(tmp_path: Path) -> None:
    named, problem = _not_aterm(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from impact.cli import main; sys.exit(main())",
            "estimate",
            "qemu",
            "--snapshot",
            str(named),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == ""
    _check(done.returncode, done.stderr, named, problem)
