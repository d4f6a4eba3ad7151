"""The PR comment on small hand-built evaluations: new evaluation errors and Hydra failures reach it, a
re-pointed attribute is a cause and no alarm, labels only for evaluated kernels, plurals, the length limit,
and the reproduce line. Every expectation is counted by hand from the graphs below."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from impact.analysis.hydra import compare_builds
from impact.analysis.pr import pr_report
from impact.cli import main
from impact.loaders.compact import write_compact
from impact.loaders.hydra_builds import load_hydra_builds
from impact.model import Derivation, DerivationGraph, EvalError, Job
from impact.render.pr import pr_markdown

SYS = "x86_64-linux"
HYDRA = Path(__file__).parent / "fixtures" / "hydra"


def drv(key: str, name: str, inputs: dict[str, tuple[str, ...]] | None = None) -> Derivation:
    return Derivation(
        path=f"/nix/store/{key.ljust(32, 'a')}-{name}.drv",
        name=name,
        system=SYS,
        outputs={"out": f"/nix/store/{key.ljust(32, 'o')}-{name}"},
        inputs=dict(inputs or {}),
    )


def job(attr: str, d: Derivation, maintainers: tuple[str, ...] = ()) -> Job:
    return Job(
        attr=f"{attr}.{SYS}",
        system=SYS,
        jobset="nixpkgs",
        drv_path=d.path,
        name=d.name,
        outputs=dict(d.outputs),
        maintainers=maintainers,
    )


def graphs(errors: tuple[EvalError, ...] = ()) -> tuple[DerivationGraph, DerivationGraph]:
    """BASE has libfoo 1.0 and 2.0 (`libfoo_2`), app on libfoo, and broken-later; HEAD points `libfoo` at 2.0
    (a re-pointing: its derivation exists), so app rebuilds, and edits tool (maintained by alice)."""
    lib1, lib2 = drv("l1", "libfoo-1.0"), drv("l2", "libfoo-2.0")
    app = drv("a1", "app-1", {lib1.path: ("out",)})
    tool, later = drv("t1", "tool-1"), drv("b1", "broken-later-1")
    base = DerivationGraph.from_records(
        [lib1, lib2, app, tool, later],
        [
            job("libfoo", lib1),
            job("libfoo_2", lib2),
            job("app", app),
            job("tool", tool, ("alice",)),
            job("broken-later", later),
        ],
        origin="base",
    )
    app2 = drv("a2", "app-1", {lib2.path: ("out",)})
    tool2 = drv("t2", "tool-1.1")
    head_jobs = [job("libfoo", lib2), job("libfoo_2", lib2), job("app", app2), job("tool", tool2, ("alice",))]
    if not errors:
        head_jobs.append(job("broken-later", later))
    head = DerivationGraph.from_records([lib2, app2, tool2, later], head_jobs, errors, origin="head")
    base.meta["label"], head.meta["label"] = "base", "head"
    return base, head


def head_path(name: str) -> str:
    return drv("a2", name).path


def test_repointing_is_a_cause_and_no_alarm() -> None:
    report = pr_report(*graphs(), "impact pr base head")
    diff = report.diff
    assert diff.agrees
    assert [(r.attr, r.before) for r in diff.repointed] == [("libfoo.x86_64-linux", ("libfoo_2.x86_64-linux",))]
    assert diff.rebuilt("nixpkgs") == ("app.x86_64-linux", "tool.x86_64-linux")
    text = pr_markdown(report)
    assert "`libfoo` now points to `libfoo-2.0`, built before as `libfoo_2` (was `libfoo-1.0`)" in text
    assert "| **nixpkgs jobs changed** | 3 | – |" not in text  # systems come from the evaluation
    # The changed jobs split without overlap, each part saying so (GitHub drops a cell's leading spaces).
    assert "| **nixpkgs jobs changed** | 3 | **3** of 5 |\n| of which rebuilt | 2 | 2 |\n" in text
    assert "| of which re-pointed (already built) | 1 | 1 |\n| **derivations to build** |" in text
    assert "[!WARNING]" not in text  # nothing to warn about
    # app follows the re-pointing: not called edited, its maintainers not pinged; tool was edited.
    assert report.maintainers == ("alice",)
    assert "`app-1`: its inputs switched to derivations already built (libfoo-1.0 → libfoo-2.0)" in text
    assert report.follows == frozenset({head_path("app-1")})
    # Plurals: one re-pointed job.
    assert "the 1 job re-pointed" in text and "1 jobs" not in text


def test_labels_only_for_evaluated_kernels() -> None:
    report = pr_report(*graphs(), "impact pr base head")
    assert report.kernels == ("linux",)
    assert report.labels == ("10.rebuild-linux: 1-10",)
    assert not any("darwin" in label for label in report.rebuild_labels.labels)


def test_a_job_that_no_longer_evaluates_reaches_the_comment() -> None:
    error = "error: assertion (stdenv.isLinux) failed at pkgs/tools/broken-later/default.nix:12:5"
    base, head = graphs((EvalError(attr="broken-later.x86_64-linux", error=error, jobset="nixpkgs"),))
    report = pr_report(base, head, "impact pr base head")
    assert [(e.attr, e.base_jobs) for e in report.diff.new_eval_errors] == [("broken-later.x86_64-linux", 1)]
    text = pr_markdown(report)
    warning = text.index("[!WARNING]")
    assert warning < text.index("Reproduce with") and "1 attribute (1 job in the base) no longer evaluate" in text
    assert f"- nixpkgs: `broken-later.x86_64-linux` (1 job in the base): `{error}`" in text
    # An error at an attribute that already failed in the base is not new.
    base2 = DerivationGraph.from_records(
        [base.derivation(i) for i in range(len(base))],
        [base.job(k) for k in range(base.job_count)],
        head.eval_errors,
    )
    assert not pr_report(base2, head, "x").diff.new_eval_errors


def test_a_hydra_build_that_newly_fails_reaches_the_comment() -> None:
    hydra = compare_builds(load_hydra_builds(HYDRA / "base-builds.json"), load_hydra_builds(HYDRA / "head-builds.csv"))
    report = pr_report(*graphs(), "impact pr base head", hydra=hydra)
    text = pr_markdown(report)
    assert text.index("> - Hydra: Not ready: 2 jobs") < text.index("Reproduce with")
    section = text[text.index("#### Hydra builds") :]
    assert "- `qemu.x86_64-linux`: succeeded → **failed**, build 2002" in section
    assert "- `podman.x86_64-linux`: succeeded → **dependency failed**, build 2004" in section
    assert json.loads(json.dumps(report.to_dict()))["hydra"]["verdict"] == "breaks"


def test_every_section_fits_the_limit() -> None:
    """Thousands of rebuilt packages: lists are shortened, never cut, and the comment stays under the limit."""
    lib1, lib2 = drv("l1", "libfoo-1.0"), drv("l2", "libfoo-1.1")
    base_drvs, head_drvs, base_jobs, head_jobs = [lib1], [lib2], [job("libfoo", lib1)], [job("libfoo", lib2)]
    for n in range(3000):
        name = f"package-with-a-rather-long-name-{n:04d}"
        b, h = drv(f"b{n}", name, {lib1.path: ("out",)}), drv(f"h{n}", name, {lib2.path: ("out",)})
        base_drvs.append(b)
        head_drvs.append(h)
        base_jobs.append(job(name, b))
        head_jobs.append(job(name, h))
    base = DerivationGraph.from_records(base_drvs, base_jobs)
    head = DerivationGraph.from_records(head_drvs, head_jobs)
    report = pr_report(base, head, "impact pr base head")
    text = pr_markdown(report, limit=20_000)
    assert len(text) <= 20_000
    for heading in ("### Rebuilds", "**Labels:**", "**Branch:**", "### Causes", "### No new breakage?", "### Lists"):
        assert heading in text
    assert "**3,001 packages rebuilt on x86_64-linux" in text and "… and 2,991 more" in text
    assert text.count("<details>") == text.count("</details>")
    assert text.index("Lists were shortened") < text.index("Reproduce with")


def test_reproduce_line_has_every_option(tmp_path: Path) -> None:
    base, head = graphs()
    write_compact(base, tmp_path / "base.impact")
    write_compact(head, tmp_path / "head.impact")
    args = [
        "pr",
        str(tmp_path / "base.impact"),
        str(tmp_path / "head.impact"),
        "--system",
        "x86_64-linux",
        "--system",
        "x86_64-darwin",
        "--nixos",
        "--base-branch",
        "release-19.03",
        "--hydra-base",
        str(HYDRA / "base-builds.json"),
        "--hydra-head",
        str(HYDRA / "head-builds.json"),
        "-o",
        str(tmp_path / "out"),
    ]
    assert main(args) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    line = text.split("```sh\n")[1].split("\n")[0]
    assert line == "impact " + " ".join(a for a in args if a not in ("-o", str(tmp_path / "out")))


@pytest.mark.parametrize("which", ["--hydra-base", "--hydra-head"])
def test_hydra_files_go_together(tmp_path: Path, which: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pr", "a", "b", which, str(HYDRA / "base-builds.json"), "-o", str(tmp_path)]) == 2
    assert "go together" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def test_a_real_disagreement_is_an_alarm_at_the_top_naming_the_jobs() -> None:
    """A consumer whose input changed but whose output paths Nix kept (impossible for input-addressed
    derivations, made by hand): the graph and Nix disagree, and the warning names the job."""
    lib = drv("l1", "lib-1")
    app = Derivation(
        path=drv("a1", "app-1").path,
        name="app-1",
        system=SYS,
        outputs={"out": "/nix/store/" + "k" * 32 + "-app-1"},
        inputs={lib.path: ("out",)},
    )
    base = DerivationGraph.from_records([lib, app], [job("app", app)])
    lib2 = drv("l2", "lib-1")
    app2 = Derivation(
        path=drv("a2", "app-1").path, name="app-1", system=SYS, outputs=dict(app.outputs), inputs={lib2.path: ("out",)}
    )
    head = DerivationGraph.from_records([lib2, app2], [job("app", app2)])
    text = pr_markdown(pr_report(base, head, "x"))
    top = text[: text.index("Reproduce with")]
    assert "[!WARNING]" in top and "disagrees" in top and "app.x86_64-linux" in top


def test_an_error_on_a_set_counts_the_base_jobs_under_it() -> None:
    """`tests.foo` failing as a whole covers tests.foo and tests.foo.*, not tests.foobar.*; an error where
    the base had no job is not new breakage."""
    from impact.analysis.diff import diff_snapshots

    d = drv("x1", "x-1")
    attrs = ["tests.foo.a", "tests.foo.b", "tests.foobar.c", "tests.foo", "other"]
    base = DerivationGraph.from_records([d], [Job(attr=a, system=SYS, jobset="nixos", drv_path=d.path) for a in attrs])
    errors = [
        EvalError(attr="tests.foo", error="e", jobset="nixos"),
        EvalError(attr="nothere", error="e", jobset="nixos"),
    ]
    head = DerivationGraph.from_records([d], [Job(attr="other", system=SYS, jobset="nixos", drv_path=d.path)], errors)
    assert [(e.attr, e.base_jobs) for e in diff_snapshots(base, head).new_eval_errors] == [("tests.foo", 3)]


def test_strings_from_the_evaluation_never_become_links() -> None:
    """A derivation's `system`, its name and its maintainers are the tree's: `see https://evil.example/login`,
    `www.…` or `owner/repo#1` in plain text would be links on GitHub. They stay text: in code spans, or with the
    link broken by a zero-width space."""
    evil_system = "see https://evil.example/login"

    def evil(key: str, name: str, inputs: dict[str, tuple[str, ...]] | None = None) -> Derivation:
        d = drv(key, name, inputs)
        return Derivation(d.path, d.name, evil_system, d.outputs, inputs=d.inputs)

    def evil_job(attr: str, d: Derivation) -> Job:
        return Job(f"{attr}.{evil_system}", evil_system, "nixpkgs", d.path, d.name, dict(d.outputs), ("GH-5 #6",))

    lib1, lib2 = evil("l1", "www.evil.example-1"), evil("l2", "www.evil.example-2")
    app1, app2 = evil("a1", "owner/repo#1", {lib1.path: ("out",)}), evil("a2", "owner/repo#1", {lib2.path: ("out",)})
    base = DerivationGraph.from_records([lib1, app1], [evil_job("lib", lib1), evil_job("app", app1)], origin="b")
    head = DerivationGraph.from_records([lib2, app2], [evil_job("lib", lib2), evil_job("app", app2)], origin="h")
    markdown = pr_markdown(pr_report(base, head, "impact pr b h"))
    assert evil_system in markdown  # shown…
    live = []
    for line in markdown.splitlines():
        if line.startswith(("```", "impact pr")):
            continue
        text = re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", "CODE", line)  # …but only as code, or broken
        live += re.findall(r"(?i)\b(?:https?|ftp)://|\bwww\.|(?:^|[\s(])#\d|[\w.-]+/[\w.-]+#\d|\bgh-\d", text)
    assert live == []


def removed_graphs() -> tuple[DerivationGraph, DerivationGraph]:
    """BASE has nixos jobs tests.foo, tests.foo.a, tests.foo.b, tests.foobar.c and other; HEAD only other, and
    `tests.foo` fails to evaluate: 3 removed jobs no longer evaluate, `tests.foobar.c` is gone without an error."""
    d = drv("x1", "x-1")
    attrs = ["tests.foo.a", "tests.foo.b", "tests.foobar.c", "tests.foo", "other"]
    base = DerivationGraph.from_records([d], [Job(attr=a, system=SYS, jobset="nixos", drv_path=d.path) for a in attrs])
    errors = (EvalError(attr="tests.foo", error="e", jobset="nixos"),)
    head = DerivationGraph.from_records([d], [Job(attr="other", system=SYS, jobset="nixos", drv_path=d.path)], errors)
    return base, head


def test_removed_jobs_say_which_no_longer_evaluate_and_which_are_gone_without_an_error() -> None:
    """The error on `tests.foo` covers 3 of the 4 removed jobs; `tests.foobar.c` is gone without an error. The
    warning, the table, No new breakage and the lists account for all 4."""
    report = pr_report(*removed_graphs(), "impact pr base head")
    assert report.diff.removed["nixos"] == ("tests.foo", "tests.foo.a", "tests.foo.b", "tests.foobar.c")
    assert report.diff.removed_failing("nixos") == ("tests.foo", "tests.foo.a", "tests.foo.b")
    text = pr_markdown(report)
    assert "1 attribute (3 jobs in the base) no longer evaluate" in text
    assert (
        "| nixos jobs removed | 4 | 4 |\n| of which no longer evaluate | 3 | 3 |\n"
        "| of which gone without an evaluation error | 1 | 1 |\n"
    ) in text
    assert "1 job of the base is gone without an evaluation error" in text
    assert "**1 job removed without an evaluation error:**\n\n- nixos: `tests.foobar.c`\n" in text
    assert "**3 jobs removed that no longer evaluate (see *No new breakage*):**" in text
