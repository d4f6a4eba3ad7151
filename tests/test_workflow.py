"""The GitHub workflows (.github/workflows/impact.yml and impact-post.yml), read with PyYAML: they call impact
with commands and options that exist, give a write token only to the jobs that post, never run a pull
request's code where a write token is, and post once per pull request: impact.yml for one from this
repository, impact-post.yml (a `workflow_run`) for one from a fork."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from impact.cli import app
from impact.github import check_report_head, read_pr_number

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
EVAL = WORKFLOWS / "impact.yml"
POST = WORKFLOWS / "impact-post.yml"


def load(path: Path) -> dict[str, Any]:
    """The workflow as data; `on` is YAML 1.1's `true` to PyYAML, so it is put back under its name."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


def steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def invocations(path: Path) -> list[list[str]]:
    """Every `impact …` command line of the workflow's `run:` scripts (a folded `>` block is one line)."""
    found = []
    for step in steps(load(path)):
        for line in str(step.get("run", "")).splitlines():
            line = line.strip()
            if line.startswith("impact "):
                found.append(shlex.split(line.replace("${{", "'").replace("}}", "'"))[1:])
    return found


@pytest.mark.parametrize("path, commands", [(EVAL, ["eval", "post", "pr"]), (POST, ["post"])])
def test_every_impact_call_uses_known_commands_and_options(path: Path, commands: list[str]) -> None:
    calls = invocations(path)
    assert sorted({c[0] for c in calls}) == commands
    group = typer.main.get_command(app)
    for call in calls:
        command = group.commands[call[0]]  # type: ignore[attr-defined]
        params = {opt: p for p in command.params for opt in getattr(p, "opts", [])}
        used = [a for a in call[1:] if a.startswith("-")]
        assert set(used) <= set(params), (call, set(used) - set(params))
        for i, arg in enumerate(call):
            if arg in params and not params[arg].is_flag:  # type: ignore[attr-defined]
                assert i + 1 < len(call) and not call[i + 1].startswith("-"), (call, arg)
        if call[0] == "post":  # the pull request is named exactly once
            assert len({"--pr", "--pr-file"} & set(used)) == 1, call


def test_triggers() -> None:
    assert load(EVAL)["on"] == {"pull_request": {"types": ["opened", "synchronize", "reopened"]}}
    # runs after the eval workflow, by its name; never on pull_request_target, which would run a fork's code
    # with a write token
    assert load(POST)["on"] == {"workflow_run": {"workflows": [load(EVAL)["name"]], "types": ["completed"]}}


def test_only_the_posting_jobs_can_write() -> None:
    eval_doc, post_doc = load(EVAL), load(POST)
    assert "permissions" not in eval_doc and post_doc["permissions"] == {}
    assert eval_doc["jobs"]["eval"]["permissions"] == {"contents": "read"}
    assert eval_doc["jobs"]["post"]["permissions"] == {"pull-requests": "write", "issues": "write"}
    assert post_doc["jobs"]["post"]["permissions"] == {"actions": "read", "pull-requests": "write", "issues": "write"}
    assert "secrets." not in yaml.safe_dump(eval_doc["jobs"]["eval"])
    for doc in (eval_doc, post_doc):
        assert "secrets.GITHUB_TOKEN" in yaml.safe_dump(doc["jobs"]["post"])


def test_the_privileged_workflow_runs_no_pull_request_code() -> None:
    post_doc = load(POST)
    uses = [str(s.get("uses", "")) for s in steps(post_doc)]
    assert not [u for u in uses if u.startswith("actions/checkout")]  # nothing of the pull request is checked out
    assert {u.split("@")[0] for u in uses} - {""} == {"actions/download-artifact"}
    for step in steps(post_doc):
        # every value reaches a script through env, so nothing GitHub or the artifact says becomes shell code
        assert "${{" not in str(step.get("run", "")), step["name"]
        assert not re.search(r"\bgit\b", str(step.get("run", ""))), step["name"]


def test_the_artifact_is_fetched_from_the_run_and_checked() -> None:
    upload = next(s for s in steps(load(EVAL)) if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    download = next(s for s in steps(load(POST)) if str(s.get("uses", "")).startswith("actions/download-artifact"))
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["github-token"] == "${{ github.token }}"
    post_step = next(s for s in steps(load(POST)) if "impact post" in str(s.get("run", "")))
    assert post_step["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    call = invocations(POST)[0]
    assert call[call.index("--head-sha") + 1] == "$HEAD_SHA"
    assert call[call.index("--pr-file") + 1] == call[call.index("--report") + 1] + "/pr-number"
    assert download["with"]["path"].replace("${{ runner.temp }}", "$RUNNER_TEMP") == call[call.index("--report") + 1]


def test_eval_writes_what_post_reads(tmp_path: Path) -> None:
    """The eval job's report step, run by bash with `impact` stubbed, leaves files `impact post` accepts."""
    step = next(s for s in steps(load(EVAL)) if "impact pr " in str(s.get("run", "")))
    assert step["env"] == {
        "PR_NUMBER": "${{ github.event.pull_request.number }}",
        "HEAD_SHA": "${{ github.event.pull_request.head.sha }}",
        "BASE_REF": "${{ github.base_ref }}",
    }
    sha = "89abcdef" * 5
    stub = "impact() { mkdir -p report && echo '# report' > report/report.md; }\n"
    script = stub + step["run"]
    env = {
        **os.environ,
        "PR_NUMBER": "12345",
        "HEAD_SHA": sha,
        "BASE_REF": "master",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, check=True)
    assert read_pr_number(tmp_path / "report" / "pr-number") == 12345
    check_report_head(tmp_path / "report" / "head-sha", sha)  # raises if it does not match
    upload = next(s for s in steps(load(EVAL)) if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "report/"


# -- supply chain and injection: what a workflow runs is fixed by hashes, and no value becomes shell code --

REQUIREMENTS = WORKFLOWS.parent / "requirements-post.txt"
_PINNED_USE = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


@pytest.mark.parametrize("path", [EVAL, POST], ids=["impact.yml", "impact-post.yml"])
def test_values_reach_scripts_only_through_env(path: Path) -> None:
    for step in steps(load(path)):
        assert "${{" not in str(step.get("run", "")), step.get("name")


@pytest.mark.parametrize("path", [EVAL, POST], ids=["impact.yml", "impact-post.yml"])
def test_actions_are_pinned_by_commit(path: Path) -> None:
    uses = [str(s["uses"]) for s in steps(load(path)) if "uses" in s]
    assert uses and all(_PINNED_USE.fullmatch(u) for u in uses), uses
    text = path.read_text()
    for u in uses:  # and the version the commit is, for a reader, in a comment on the same line
        assert re.search(re.escape(u) + r" # v\d+\.\d+\.\d+\n", text), u


def _requirements(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_requirements_are_pinned_by_hash() -> None:
    lines = _requirements(REQUIREMENTS.read_text())
    assert len(lines) > 10
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[\w.+!-]+ --hash=sha256:[0-9a-f]{64}", line), line
    names = {line.split("==")[0].lower() for line in lines}
    assert {"numpy", "networkx", "pandas", "typer", "scipy", "matplotlib", "setuptools"} <= names


def test_requirements_meet_the_constraints_of_pyproject() -> None:
    """Every dependency pyproject.toml declares is pinned in requirements-post.txt at a version its constraint
    allows (typer was pinned at 0.29.2 while pyproject requires < 0.29), and nothing is pinned twice."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    pins: dict[str, Version] = {}
    for line in _requirements(REQUIREMENTS.read_text()):
        name, version = line.split(" ", 1)[0].split("==")
        assert canonicalize_name(name) not in pins, f"{name} pinned twice"
        pins[canonicalize_name(name)] = Version(version)
    project = tomllib.loads((WORKFLOWS.parent.parent / "pyproject.toml").read_text())["project"]
    declared = [Requirement(text) for text in project["dependencies"]]
    assert {"typer", "numpy", "matplotlib"} <= {canonicalize_name(r.name) for r in declared}
    for requirement in declared:
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"{requirement.name}=={pinned} vs {requirement}"
        )


def test_the_constraint_check_sees_a_pin_outside_pyproject() -> None:
    from packaging.requirements import Requirement
    from packaging.version import Version

    assert not Requirement("typer>=0.12,<0.29").specifier.contains(Version("0.29.2"))


def _can_write(job: dict[str, Any]) -> bool:
    return "write" in (job.get("permissions") or {}).values()


@pytest.mark.parametrize("path", [EVAL, POST], ids=["impact.yml", "impact-post.yml"])
def test_pip_in_token_holding_jobs_installs_only_hashed_packages(path: Path) -> None:
    wanted = _requirements(REQUIREMENTS.read_text())
    jobs = [job for job in load(path)["jobs"].values() if _can_write(job)]
    assert jobs
    for job in jobs:
        scripts = [str(s.get("run", "")) for s in job["steps"]]
        installs = [line.strip() for run in scripts for line in run.splitlines() if 'pip" install' in line]
        assert installs, "the posting job installs impact"
        for line in installs:
            assert "--require-hashes" in line or ("--no-deps" in line and "--no-build-isolation" in line), line
        script = next(run for run in scripts if "--require-hashes" in run)
        embedded = script.split("<<'REQUIREMENTS'\n", 1)[1].split("\nREQUIREMENTS\n", 1)[0]
        assert _requirements(embedded) == wanted  # the same pins as .github/requirements-post.txt
        assert re.search(r"grep -Eq '@\[0-9a-f\]\{40\}\$\|#sha256=\[0-9a-f\]\{64\}\$'", script), "impact pinned"


# -- who posts: GitHub's `if:` expressions, evaluated for a pull request from this repository and from a fork --

TERM = re.compile(r"\s*([\w.-]+|'[^']*')\s*(==|!=)\s*([\w.-]+|'[^']*')\s*")


def evaluate(expression: str, context: dict[str, str]) -> bool:
    """A GitHub expression made of `a == b` / `a != b` terms joined by `&&` (all these workflows use)."""
    result = True
    for term in expression.split("&&"):
        m = TERM.fullmatch(term)
        assert m, f"extend evaluate() for {term!r}"
        left, right = (x.strip("'") if x.startswith("'") else context[x] for x in m.group(1, 3))
        result &= (left == right) == (m.group(2) == "==")
    return result


@pytest.mark.parametrize(
    "head_repo, eval_ok, posting",
    [
        ("NixOS/nixpkgs", True, "impact.yml"),
        ("alice/nixpkgs", True, "impact-post.yml"),
        ("NixOS/nixpkgs", False, None),
        ("alice/nixpkgs", False, None),
    ],
)
def test_each_pull_request_is_posted_once(head_repo: str, eval_ok: bool, posting: str | None) -> None:
    ctx = {
        "github.repository": "NixOS/nixpkgs",
        "needs.eval.outputs.nixpkgs": "true",
        "github.event.pull_request.head.repo.full_name": head_repo,
        "github.event.workflow_run.event": "pull_request",
        "github.event.workflow_run.conclusion": "success" if eval_ok else "failure",
        "github.event.workflow_run.head_repository.full_name": head_repo,
    }
    assert load(EVAL)["jobs"]["post"]["needs"] == "eval"  # so it is skipped when eval fails
    same = eval_ok and evaluate(load(EVAL)["jobs"]["post"]["if"], ctx)
    fork = evaluate(load(POST)["jobs"]["post"]["if"], ctx)
    assert [name for name, runs in (("impact.yml", same), ("impact-post.yml", fork)) if runs] == (
        [posting] if posting else []
    )
