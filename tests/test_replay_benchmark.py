"""The replay benchmark's comparison of impact's answer with Nix's own out-path diff."""

from __future__ import annotations

from benchmarks.replay import _truth_counts, compare_answer


def _truth(**jobs: list[str]) -> dict:
    diff = {"changed": [], "added": [], "removed": [], "newly_failing": []} | jobs
    return {"jobsets": {"nixpkgs/x86_64-linux": diff}}


def test_a_job_failing_in_head_is_a_break_not_also_a_removal() -> None:
    truth = _truth(
        changed=["hello.x86_64-linux"],
        removed=["gone.x86_64-linux", "go.x86_64-linux"],
        newly_failing=["go.x86_64-linux"],
    )
    answer = {
        "changed_jobs": {"nixpkgs": ["hello.x86_64-linux", "hello.aarch64-linux"]},
        "removed_jobs": {"nixpkgs": ["gone.x86_64-linux"]},
        "broken_jobs": {"nixpkgs": {"go.x86_64-linux": "error: boom"}},
    }
    assert compare_answer(answer, truth) == {"nixpkgs/x86_64-linux": {}}
    assert _truth_counts(truth) == {"changed": 1, "added": 0, "removed": 1, "broken": 1}


def test_a_break_reported_as_a_removal_is_a_difference() -> None:
    truth = _truth(removed=["go.x86_64-linux"], newly_failing=["go.x86_64-linux"])
    answer = {"removed_jobs": {"nixpkgs": ["go.x86_64-linux"]}}
    assert compare_answer(answer, truth) == {
        "nixpkgs/x86_64-linux": {"removed extra": ["go.x86_64-linux"], "newly_failing missed": ["go.x86_64-linux"]}
    }
