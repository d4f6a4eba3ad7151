"""Golden PR comments for four real edits of nixpkgs master 2016-06-24, evaluated by `impact eval`.

The cases (made by scripts/pr-cases.sh; see tests/pr_cases.py for the fixtures): the default kernel switched
from 4.4 to 4.6 (an alias edit), a new package (nnn), docker split into out + man, and a darwin-only edit of
libpng. For each: the headline equals Nix's own out-path diff (computed by scripts/outpath_diff.py from the
two jobs files, no impact code), the cross-check agrees (no false alarm), the causes name the real edit and
never an every-commit derivation, and the comment equals tests/golden/pr-2016-<case>.md (regenerate with
IMPACT_UPDATE_GOLDEN=1 and read the diff).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from impact.analysis.pr import PrReport, pr_report
from impact.render.pr import pr_markdown
from tests.pr_cases import CASES, base_graph, expected, head_graph

GOLDEN = Path(__file__).parent / "golden"
COMMAND = "impact pr {base} {head} --system x86_64-linux --system i686-linux --system x86_64-darwin --nixos"


def report_of(case: str) -> PrReport:
    head = head_graph(case)
    return pr_report(base_graph(), head, COMMAND.format(base="a1884e63", head=case))


@pytest.mark.parametrize("case", CASES)
def test_headline_equals_nix_outpath_diff(case: str) -> None:
    report = report_of(case)
    diff = report.diff
    nix = expected()["cases"][case]
    assert sorted(diff.jobsets) == sorted(nix)
    for js, want in nix.items():
        assert list(diff.changed.get(js, ())) == want["changed"], js
        assert list(diff.added.get(js, ())) == want["added"], js
        assert list(diff.removed.get(js, ())) == want["removed"], js
        # The headline splits Nix's changed jobs, without overlap, into rebuilt, re-pointed and every-commit.
        rebuilt = set(diff.rebuilt(js))
        repointed = {r.attr for r in diff.repointed if r.jobset == js and r.attr in set(want["changed"])}
        every = set(diff.every_commit_jobs.get(js, ())) & set(want["changed"])
        assert rebuilt | repointed | every == set(want["changed"])
        assert len(rebuilt) + len(repointed) + len(every) == len(want["changed"])
        assert [e.attr for e in diff.new_eval_errors if e.jobset == js] == want["newly_failing"]
    assert diff.agrees and not [f for f in diff.findings if f.check == "head-check"]


@pytest.mark.parametrize("case", CASES)
def test_golden_comment(case: str) -> None:
    report = report_of(case)
    text = pr_markdown(report)
    assert len(text) <= 65_536
    golden = GOLDEN / f"pr-2016-{case}.md"
    if os.environ.get("IMPACT_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    # Every-commit roots (nixpkgs source tree) are never causes; their jobs are listed apart.
    assert not [c for c in report.causes if c.root.path in report.diff.every_commit_roots]
    assert "[!WARNING]" not in text


def test_kernel_switch_is_a_re_pointing() -> None:
    report = report_of("kernel")
    groups = {(r.head_prefix, r.base_prefix) for r in report.repointings}
    assert ("linuxPackages", "linuxPackages_4_6") in groups
    linux = next(r for r in report.repointings if r.head_prefix == "linux")
    assert (linux.base_prefix, linux.name, linux.base_name) == ("linux_4_6", "linux-4.6.2", "linux-4.4.13")
    # Nothing is called edited: every ranked root follows the re-pointing; nobody's package was edited.
    assert report.causes and all(c.follows_repointing or c.swapped for c in report.causes)
    assert report.maintainers == ()
    assert "10.rebuild-darwin: 0" in report.labels  # darwin was evaluated: its label is set


def test_new_package_is_the_cause() -> None:
    report = report_of("newpkg")
    assert report.diff.added["nixpkgs"] == ("nnn.i686-linux", "nnn.x86_64-darwin", "nnn.x86_64-linux")
    # The new source (a fixed-output fetch) is the root; each cause leads to the package.
    assert {c.root.name for c in report.causes} == {"nnn-v1.0-src"}
    assert all(c.root.base_path is None and c.chain.endswith("nnn-1.0") for c in report.causes)
    assert [m.split(" <")[0] for m in report.maintainers] == ["Jascha Geerds"]


def test_docker_split_is_the_cause() -> None:
    report = report_of("docker")
    head = head_graph("docker")
    outputs = head.job(head.job_index[("nixpkgs", "docker.x86_64-linux")]).outputs
    assert sorted(outputs) == ["man", "out"]
    assert report.causes[0].root.name.startswith("docker-") and not report.causes[0].follows_repointing
    assert all(c.root.name.startswith("docker-") for c in report.causes)


def test_darwin_only_edit_rebuilds_only_darwin() -> None:
    report = report_of("darwin")
    assert report.diff.rebuilt("nixpkgs") and all(a.endswith(".x86_64-darwin") for a in report.diff.rebuilt("nixpkgs"))
    assert report.diff.rebuilt("nixos") == ()
    assert {(c.root.name.split("-")[0], c.root.system) for c in report.causes} == {("libpng", "x86_64-darwin")}
    assert "10.rebuild-linux: 0" in report.labels
