"""`--snapshot jobs.jsonl`: the jobs' .drv files read from a chroot store named by IMPACT_STORE_ROOT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impact.cli import main
from impact.loaders import STORE_ROOT_ENV
from impact.nix import jobs_jsonl
from tests.integration.test_nix_rebuilds import Evaluation, base, roots_named  # noqa: F401  (module fixture)


def test_jobs_lines_snapshot_reads_the_chroot_store(
    base: Evaluation,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert base.nix.store_root is not None
    lines = tmp_path / "jobs.jsonl"
    lines.write_text(jobs_jsonl(base.lines))
    roots = roots_named(base, "zlib-1.2.8")
    argv = ["estimate", "--snapshot", str(lines), "--json"] + [a for r in roots for a in ("--drv", r)]

    monkeypatch.setenv(STORE_ROOT_ENV, str(tmp_path / "no-store"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".drv" in err

    monkeypatch.setenv(STORE_ROOT_ENV, str(base.nix.store_root))
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    # The same answer as from the evaluation's own show-derivation JSON.
    expected = out["changed_jobs"]["nixpkgs"]
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "jobs.jsonl").write_text(jobs_jsonl(base.lines))
    (folder / "derivations.json").write_text(json.dumps(base.derivations))
    assert main(["estimate", "--snapshot", str(folder), "--json", *argv[4:]]) == 0
    assert json.loads(capsys.readouterr().out)["changed_jobs"]["nixpkgs"] == expected
    assert "zlib.x86_64-linux" in expected
