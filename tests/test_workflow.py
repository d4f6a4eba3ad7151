"""The bot's GitHub workflow (.github/workflows/impact.yml, with eval.yml's installs), read with PyYAML and run
with bash where it matters: it calls impact with commands and options that exist; it runs on the base
branch's definition (`pull_request_target`) with the pull request's tree as data only; only the posting job
can write, and it posts what it rendered itself from this run's report, so a forged artifact reaches GitHub as
nothing; impact is installed from a verified commit, never from a ref a branch or tag could stand in for."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from impact.cli import app, main
from tests.fake_github import HEAD, REPO, TOKEN, Fake, Repo

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
BOT = WORKFLOWS / "impact.yml"
CHUNKED = WORKFLOWS / "eval.yml"
REQUIREMENTS = WORKFLOWS.parent / "requirements-post.txt"
#: Every label impact may set, as nixpkgs CI names them.
KNOWN_LABEL = re.compile(
    r"10\.rebuild-(linux|darwin): (0|1|1-10|11-100|101-500|501\+|501-1000|1001-2500|2501-5000|5001\+)"
    r"|10\.rebuild-(linux|darwin)-stdenv|10\.rebuild-nixos-tests"
)


def load(path: Path) -> dict[str, Any]:
    """The workflow as data; `on` is YAML 1.1's `true` to PyYAML, so it is put back under its name."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


def steps(doc: dict[str, Any], job: str | None = None) -> list[dict[str, Any]]:
    jobs = [doc["jobs"][job]] if job else list(doc["jobs"].values())
    return [step for j in jobs for step in j.get("steps", [])]


def step_running(doc: dict[str, Any], job: str, words: str) -> dict[str, Any]:
    """The step of `job` whose script holds `words`."""
    return next(s for s in steps(doc, job) if words in str(s.get("run", "")))


def invocations(path: Path) -> list[list[str]]:
    """Every `impact …` command line of the workflow's `run:` scripts (a folded `>` block is one line)."""
    found = []
    for step in steps(load(path)):
        for line in str(step.get("run", "")).splitlines():
            line = line.strip()
            if line.startswith("impact "):
                found.append(shlex.split(line)[1:])
    return found


def test_every_impact_call_uses_known_commands_and_options() -> None:
    calls = invocations(BOT)
    assert sorted({c[0] for c in calls}) == ["post", "pr"]
    group = typer.main.get_command(app)
    for call in calls:
        command = group.commands[call[0]]  # type: ignore[attr-defined]
        params = {opt: p for p in command.params if p.param_type_name == "option" for opt in p.opts}
        used = [a for a in call[1:] if a.startswith("-")]
        assert set(used) <= set(params), (call, set(used) - set(params))
        for i, arg in enumerate(call):
            if arg in params and not params[arg].is_flag:  # type: ignore[attr-defined]
                assert i + 1 < len(call) and not call[i + 1].startswith("-"), (call, arg)


# -- who runs what, with which permissions ---------------------------------------------------------------------------


def test_the_bot_runs_from_the_base_branch_and_nothing_else_posts() -> None:
    """`pull_request_target` runs the base branch's copy of the workflow: a fork's edit of it changes nothing.
    No other workflow can post (the `workflow_run` poster that took any run's artifact is gone)."""
    assert load(BOT)["on"] == {"pull_request_target": {"types": ["opened", "synchronize", "reopened"]}}
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["eval.yml", "impact.yml"]
    assert "workflow_run" not in load(CHUNKED)["on"] and "pull_request" not in str(load(CHUNKED)["on"])


def test_only_the_posting_job_can_write_and_only_it_sees_a_secret() -> None:
    doc = load(BOT)
    assert doc["permissions"] == {}  # nothing by default
    assert doc["jobs"]["eval"]["permissions"] == {"contents": "read"}
    assert doc["jobs"]["post"]["permissions"] == {"pull-requests": "write", "issues": "write"}
    assert "secrets." not in yaml.safe_dump(doc["jobs"]["eval"])
    posting = step_running(doc, "post", "impact post")
    assert posting["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert [s for s in steps(doc) if "secrets." in yaml.safe_dump(s)] == [posting]


def test_the_pull_request_is_data_only() -> None:
    """The pull request's tree (head/) is checked out without credentials and only read: by `impact pr` (git, and
    Nix's parser and restricted evaluator), by `git rev-parse` and by a file test. No step runs anything from
    it."""
    doc = load(BOT)
    checkouts = [s for s in steps(doc) if str(s.get("uses", "")).startswith("actions/checkout")]
    assert [c["with"]["path"] for c in checkouts] == ["base", "head"]
    assert all(c["with"]["persist-credentials"] is False for c in checkouts)
    assert checkouts[1]["with"]["ref"] == "refs/pull/${{ github.event.pull_request.number }}/merge"
    assert not [s for s in steps(doc) if "working-directory" in s or str(s.get("uses", "")).startswith(".")]
    allowed = re.compile(
        r'impact pr "\$parent" "\$merge" --repo head -o report .*'
        r"|(parent|merge)=\$\(git -C head rev-parse --verify HEAD(\^1)?\)"
        r"|.*git -C head rev-parse --verify --quiet HEAD\^2.*"
        r"|if \[ -f base/pkgs/top-level/release\.nix \] && \[ -f head/pkgs/top-level/release\.nix \]; then"
    )
    for step in steps(doc):
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith("#"):
                continue
            if re.search(r"(?<![\w-])(head|base)(/|\b(?!-))", line.replace("--base-branch", "")):
                assert allowed.fullmatch(line.strip()), line


def test_the_report_posted_is_this_runs() -> None:
    """post takes the artifact of this very run (no run id, no token to read another's), the pull request's
    number and head commit from the event, and checks the report is for that commit."""
    doc = load(BOT)
    upload = next(s for s in steps(doc, "eval") if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    download = next(s for s in steps(doc, "post") if str(s.get("uses", "")).startswith("actions/download-artifact"))
    assert download["with"] == {"name": upload["with"]["name"], "path": "report"}
    assert doc["jobs"]["post"]["needs"] == "eval"
    posting = step_running(doc, "post", "impact post")
    assert posting["env"]["PR_NUMBER"] == "${{ github.event.pull_request.number }}"
    assert posting["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    (call,) = [c for c in invocations(BOT) if c[0] == "post"]
    assert call[call.index("--report") + 1] == "report" and call[call.index("--head-sha") + 1] == "$HEAD_SHA"
    assert call[call.index("--pr") + 1] == "$PR_NUMBER" and "--label" not in call


@pytest.mark.parametrize("nixpkgs, posts", [("true", True), ("false", False)])
def test_post_runs_when_there_is_a_report(nixpkgs: str, posts: bool) -> None:
    """For a fork's pull request as for one from this repository: the base branch's workflow posts, once."""
    expression = load(BOT)["jobs"]["post"]["if"]
    assert expression == "needs.eval.outputs.nixpkgs == 'true'"
    assert (nixpkgs == "true") == posts


def test_eval_writes_what_post_reads(tmp_path: Path) -> None:
    """The eval job's report step, run by bash with `impact pr` stubbed, leaves the head commit post checks."""
    step = step_running(load(BOT), "eval", "impact pr ")
    assert step["env"] == {
        "HEAD_SHA": "${{ github.event.pull_request.head.sha }}",
        "BASE_REF": "${{ github.base_ref }}",
    }
    from impact.github import check_report_head

    sha = "89abcdef" * 5
    head = tmp_path / "head"  # the merge commit and its first parent
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip
    subprocess.run(["git", "init", "-q", str(head)], check=True, env=git_env)
    for message in ("parent", "merge"):
        subprocess.run(
            ["git", "-C", str(head), "commit", "-q", "--allow-empty", "-m", message], check=True, env=git_env
        )
    called = tmp_path / "called"
    stub = f'impact() {{ printf "%s\\n" "$@" > {called}; mkdir -p report && echo "# report" > report/report.md; }}\n'
    env = {**os.environ, "HEAD_SHA": sha, "BASE_REF": "master", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    subprocess.run(["bash", "-e", "-c", stub + step["run"]], cwd=tmp_path, env=env, check=True)
    check_report_head(tmp_path / "report" / "head-sha", sha)  # raises if it does not match
    args = called.read_text().splitlines()
    rev = [subprocess.run(["git", "-C", str(head), "rev-parse", r], capture_output=True, text=True, check=True).stdout.strip()
           for r in ("HEAD^1", "HEAD")]  # fmt: skip
    assert args[:3] == ["pr", *rev] and args[args.index("--repo") + 1] == "head"


# -- a forged artifact, through the real post step, against a fake GitHub ------------------------------------------

MENTION = "@NixOS/nixpkgs-committers"
TRACKER = "<img src=https://tracker.example/p.gif>"
PHISHING = "[Log in to approve](https://evil.example/login)"


def _snapshot(folder: Path, version: str) -> Path:
    """A one-package evaluation (libfoo, and app on it) as show-derivation JSON and nix-eval-jobs lines."""
    s, sys_ = "/nix/store/", "x86_64-linux"
    lib, app_ = f"{s}{version * 32}-libfoo.drv", f"{s}{version * 31}a-app.drv"
    drvs = {
        lib: {"outputs": {"out": {"path": f"{s}{version * 31}o-libfoo"}}, "inputSrcs": [], "inputDrvs": {},
              "system": sys_, "env": {"name": f"libfoo-{version}"}},
        app_: {"outputs": {"out": {"path": f"{s}{version * 30}ao-app"}}, "inputSrcs": [], "inputDrvs": {lib: ["out"]},
               "system": sys_, "env": {"name": "app-1"}},
    }  # fmt: skip
    jobs = [
        {"attr": f"{a}.{sys_}", "attrPath": [a, sys_], "drvPath": d, "system": sys_, "name": drvs[d]["env"]["name"],
         "jobset": "nixpkgs", "outputs": {"out": drvs[d]["outputs"]["out"]["path"]}, "meta": {"maintainers": ["al"]}}
        for a, d in (("libfoo", lib), ("app", app_))
    ]  # fmt: skip
    folder.mkdir()
    (folder / "derivations.json").write_text(json.dumps(drvs))
    (folder / "jobs.jsonl").write_text("".join(json.dumps(j) + "\n" for j in jobs))
    return folder


def _forged_artifact(folder: Path, forge: Callable[[dict[str, Any]], None]) -> Path:
    """A real report of `impact pr`, then rewritten as a fork would: hostile Markdown, its own labels (and the
    digest made to match), and `forge` applied to the structured comment."""
    assert (
        main(["pr", str(_snapshot(folder / "a", "1")), str(_snapshot(folder / "b", "2")), "-o", str(folder / "report")])
        == 0
    )
    report = folder / "report"
    markdown = f"<!-- impact-report -->\n## All good\n\n{MENTION} please merge {TRACKER}\n\n{PHISHING}\n"
    (report / "report.md").write_text(markdown)
    data = json.loads((report / "report.json").read_text())
    data["labels"] = ["10.rebuild-anything the fork wants", "10.rebuild-linux: 501+"]
    data["report_md_sha256"] = hashlib.sha256(markdown.encode()).hexdigest()
    if "comment" in data:
        comment = data["comment"]
        comment["maintainers"] = [MENTION, TRACKER]
        comment["branch"]["reasons"] = [f"{PHISHING} {TRACKER} {MENTION} https://evil.example/login"]
        comment["base_label"] = MENTION
        forge(comment)
    (report / "report.json").write_text(json.dumps(data))
    (report / "head-sha").write_text(HEAD + "\n")
    return folder


def _run_post_step(cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    """The post job's posting step as GitHub runs it: bash, the event's values in its env, impact on PATH."""
    step = step_running(load(BOT), "post", "impact post")
    event = {"GITHUB_TOKEN": TOKEN, "PR_NUMBER": "5", "HEAD_SHA": HEAD}
    env = {k: event[k] for k in step["env"]}
    runner = {"GITHUB_API_URL": url, "GITHUB_REPOSITORY": REPO, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    runner.update({k: v for k, v in os.environ.items() if k == "PYTHONPATH"})  # the impact under test
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=cwd, env={**runner, **env}, capture_output=True, text=True, timeout=120
    )


def _live(body: str) -> list[str]:
    """What is live in `body` outside code: HTML other than folds, mentions, links."""
    text = re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", "CODE", re.sub(r"(?ms)^```.*?^```", "", body))
    pattern = r"(?i)<(?!/?details>|/?summary>|!--)[a-z]|@(?!\u200b)\w|(?<!\\)\]\(|\b(?:https?|ftp)://|\bwww\."
    return re.findall(pattern, text)


def test_a_forged_artifact_reaches_github_as_nothing(serve: Callable[..., Fake], tmp_path: Path) -> None:
    """Hostile Markdown, mentions, a tracker image, a phishing link and invented labels in the artifact: the
    comment posted is rendered from the report's data, escaped, and the labels follow from its numbers."""
    repo = Repo([])
    fake = serve(repo)
    done = _run_post_step(_forged_artifact(tmp_path, lambda c: None), fake.url)
    assert done.returncode == 0, done.stderr
    (comment,) = repo.comments
    body = comment["body"]
    assert "## All good" not in body and "please merge" not in body  # report.md was not posted
    assert _live(body) == [], _live(body)
    assert repo.labels and all(KNOWN_LABEL.fullmatch(label) for label in repo.labels), repo.labels
    assert repo.labels == ["10.rebuild-linux: 1-10"]  # what two rebuilt packages earn, not what the artifact said


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: c["labels"]["counts"].update({"anything the fork wants": 1}),
        lambda c: c.update({"markdown": f"{MENTION} {TRACKER}"}),
        lambda c: c["rows"][0].update({"kind": TRACKER}),
    ],
)
def test_a_forged_report_structure_posts_nothing(
    serve: Callable[..., Fake], tmp_path: Path, forge: Callable[[dict[str, Any]], None]
) -> None:
    repo = Repo([])
    fake = serve(repo)
    done = _run_post_step(_forged_artifact(tmp_path, forge), fake.url)
    assert done.returncode == 2 and "nothing posted" in done.stderr, done.stderr
    assert [s.method for s in fake.seen if s.method != "GET"] == [] and repo.labels == []


# -- supply chain: what the jobs install is fixed by hashes and a verified commit ---------------------------------


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


def _install_steps() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{name}", step)
        for path in (BOT, CHUNKED)
        for name, job in load(path)["jobs"].items()
        for step in job["steps"]
        if 'pip" install' in str(step.get("run", ""))
    ]


def test_every_job_installs_impact_one_pinned_way() -> None:
    """Each job installing impact (the bot's two, the chunked evaluation's two) runs the same script: the
    dependencies from the embedded copy of requirements-post.txt by hash, impact from its verified checkout."""
    found = _install_steps()
    assert [where for where, _ in found] == ["impact.yml:eval", "impact.yml:post", "eval.yml:eval", "eval.yml:merge"]
    scripts = {step["run"] for _, step in found}
    assert len(scripts) == 1
    (script,) = scripts
    embedded = script.split("<<'REQUIREMENTS'\n", 1)[1].split("\nREQUIREMENTS\n", 1)[0]
    assert _requirements(embedded) == _requirements(REQUIREMENTS.read_text())
    installs = [line.strip() for line in script.splitlines() if 'pip" install' in line]
    assert installs == [
        '"$RUNNER_TEMP/venv/bin/pip" install -q --require-hashes --only-binary=:all: -r "$RUNNER_TEMP/requirements-post.txt"',
        '"$RUNNER_TEMP/venv/bin/pip" install -q --no-deps --no-build-isolation --no-index "$src"',
    ]


def _pin_repository(tmp_path: Path) -> tuple[Path, str, str]:
    """A git repository of a package with a good commit and an evil one, and a branch and a tag named like the
    good commit that point at the evil one (what pip's `git+URL@<sha>` resolves first)."""
    repo = tmp_path / "impact-upstream"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@e", "GIT_COMMITTER_NAME": "A",
           "GIT_COMMITTER_EMAIL": "a@e", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
        ).stdout

    git("init", "-q", "-b", "main")
    (repo / "who.txt").write_text("good\n")
    git("add", "-A")
    git("commit", "-q", "-m", "good")
    good = git("rev-parse", "HEAD").strip()
    (repo / "who.txt").write_text("evil\n")
    git("commit", "-q", "-am", "evil")
    evil = git("rev-parse", "HEAD").strip()
    git("branch", good, evil)
    git("tag", good, evil)
    return repo, good, evil


#: A stand-in for `python3 -m venv DIR` whose pip records what it is asked to install (and, for a folder, the
#: commit and content checked out there) instead of installing it.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  cat > "$3/bin/pip" <<'PIP'
#!/bin/sh
for arg in "$@"; do
  case "$arg" in -*) continue;; esac
  if [ -d "$arg" ]; then
    echo "folder $(git -C "$arg" rev-parse HEAD) $(cat "$arg/who.txt")" >> "$PIP_LOG"
  elif [ "$arg" != install ] && [ "${arg%requirements-post.txt}" = "$arg" ]; then
    echo "spec $arg" >> "$PIP_LOG"
  fi
done
PIP
  chmod +x "$3/bin/pip"
  exit 0
fi
exec /usr/bin/python3 "$@"
"""


def _run_install(tmp_path: Path, step: dict[str, Any], commit: str, repository: str) -> tuple[int, list[str]]:
    bin_ = tmp_path / "bin"
    bin_.mkdir(exist_ok=True)
    (bin_ / "python3").write_text(FAKE_PYTHON)
    (bin_ / "python3").chmod(0o755)
    log = tmp_path / "pip.log"
    log.unlink(missing_ok=True)
    env = {
        "PATH": f"{bin_}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_PATH": str(tmp_path / "github-path"),
        "PIP_LOG": str(log),
        "IMPACT_REPOSITORY": repository,
        "IMPACT_COMMIT": commit,
        "IMPACT_PIP_SPEC": f"git+{repository}@{commit}",  # what the install step read before
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    (tmp_path / "runner").mkdir(exist_ok=True)
    done = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("where", ["impact.yml:post", "impact.yml:eval"])
def test_the_pinned_commit_is_what_is_installed(tmp_path: Path, where: str) -> None:
    """A branch and a tag named like the pinned commit point elsewhere: impact is still installed from exactly
    that commit, checked out and verified, never from a spec pip resolves itself."""
    repo, good, _ = _pin_repository(tmp_path)
    step = dict(_install_steps())[where]
    code, installed = _run_install(tmp_path, step, good, f"file://{repo}")
    assert code == 0
    assert installed == [f"folder {good} good"], installed


@pytest.mark.parametrize(
    "commit, repository",
    [
        ("main", "file://{repo}"),  # a branch
        ("{good_short}", "file://{repo}"),  # a short commit
        ("{missing}", "file://{repo}"),  # a commit the repository does not have
        ("{good} ", "file://{repo}"),
        ("{good}", ""),
    ],
)
def test_an_unpinned_or_unknown_commit_installs_nothing(tmp_path: Path, commit: str, repository: str) -> None:
    repo, good, _ = _pin_repository(tmp_path)
    values = {"repo": repo, "good": good, "good_short": good[:12], "missing": "1" * 40}
    step = dict(_install_steps())["impact.yml:post"]
    code, installed = _run_install(tmp_path, step, commit.format(**values), repository.format(**values))
    assert code != 0 and installed == []


# -- injection --------------------------------------------------------------------------------------------------------

_PINNED_USE = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


@pytest.mark.parametrize("path", [BOT, CHUNKED], ids=["impact.yml", "eval.yml"])
def test_values_reach_scripts_only_through_env(path: Path) -> None:
    for step in steps(load(path)):
        assert "${{" not in str(step.get("run", "")), step.get("name")


@pytest.mark.parametrize("path", [BOT, CHUNKED], ids=["impact.yml", "eval.yml"])
def test_actions_are_pinned_by_commit(path: Path) -> None:
    uses = [str(s["uses"]) for s in steps(load(path)) if "uses" in s]
    assert uses and all(_PINNED_USE.fullmatch(u) for u in uses), uses
    text = path.read_text()
    for u in uses:  # and the version the commit is, for a reader, in a comment on the same line
        assert re.search(re.escape(u) + r" # v\d+\.\d+\.\d+\n", text), u
