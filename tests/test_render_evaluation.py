"""The summary `impact eval` prints (impact/render/evaluation.py)."""

from __future__ import annotations

from pathlib import Path

from impact.evaluate import EvalSummary
from impact.nix import EvalProcess
from impact.render.evaluation import eval_text


def summary(errors: int, explained: int) -> EvalSummary:
    processes = [EvalProcess("all jobs", 3.0, 26 * 2**20)]
    processes += [EvalProcess(f"job broken{i}.x86_64-linux", 0.4, 25 * 2**20) for i in range(explained)]
    return EvalSummary(Path("demo/base"), {"nixpkgs": 4, "nixos": 2}, errors, 7, processes=processes, seconds=3.2)


def test_one_error_is_singular_and_several_plural() -> None:
    assert eval_text(summary(1, 1)).splitlines() == [
        "wrote demo/base: 4 nixpkgs, 2 nixos jobs, 1 evaluation error, 7 derivations in 3 s",
        "  all jobs: 3 s, peak 26 MiB",
        "  1 error explained, one job a process: 0 s, peak 25 MiB",
    ]
    text = eval_text(summary(2, 2))
    assert "2 evaluation errors" in text and "  2 errors explained, one job a process: 1 s" in text
    assert "0 evaluation errors" in eval_text(summary(0, 0)) and "explained" not in eval_text(summary(0, 0))
