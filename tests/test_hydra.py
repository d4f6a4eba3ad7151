"""Hydra build results: the loader (JSON API and builds-table CSV), the comparison and its verdict, the command.

The fixtures in tests/fixtures/hydra/ have the shape Hydra's `/eval/<id>/builds` returns (and the `builds`
table's columns for the CSV); every expectation is read off them by hand: in HEAD qemu fails (1), podman's
dependency fails (2), the simple VM test times out (7), firecracker is fixed, cri-o is new and fails (6).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impact.analysis.hydra import compare_builds
from impact.cli import main
from impact.errors import InputError
from impact.loaders.hydra_builds import HydraBuild, load_hydra_builds, parse_hydra_builds

FIXTURES = Path(__file__).parent / "fixtures" / "hydra"
BASE = FIXTURES / "base-builds.json"
HEAD = FIXTURES / "head-builds.json"
HEAD_CSV = FIXTURES / "head-builds.csv"


def test_json_and_csv_read_the_same_builds() -> None:
    from_json = load_hydra_builds(HEAD)
    from_csv = load_hydra_builds(HEAD_CSV)
    assert from_json.keys() == from_csv.keys()
    for key, build in from_json.items():
        other = from_csv[key]
        assert (build.buildstatus, build.finished, build.id, build.drvpath) == (
            other.buildstatus,
            other.finished,
            other.id,
            other.drvpath,
        )
    assert from_json[("qemu.x86_64-linux", "x86_64-linux")].status == "failed"
    assert from_json[("podman.x86_64-linux", "x86_64-linux")].status == "dependency failed"


def test_newly_failing_and_succeeding() -> None:
    c = compare_builds(load_hydra_builds(BASE), load_hydra_builds(HEAD))
    assert [r.job for r in c.newly_failing] == ["podman.x86_64-linux", "qemu.x86_64-linux"]
    assert [r.job for r in c.transient] == ["nixos.tests.simple.x86_64-linux"]
    assert [r.job for r in c.newly_succeeding] == ["firecracker.x86_64-linux"]
    assert [r.job for r in c.new_jobs_failing] == ["cri-o.x86_64-linux"]
    assert c.verdict == "breaks"
    assert "2 jobs" in c.verdict_text and "1 because a dependency failed" in c.verdict_text


def build(job: str, status: int | None, finished: bool = True, id: int = 1) -> HydraBuild:
    return HydraBuild(job=job, system="x86_64-linux", finished=finished, buildstatus=status, id=id)


def as_map(*builds: HydraBuild) -> dict[tuple[str, str], HydraBuild]:
    return {(b.job, b.system): b for b in builds}


@pytest.mark.parametrize(
    "head, verdict",
    [
        (as_map(build("a", 0), build("b", 1)), "ok"),  # b failed before too: not new
        (as_map(build("a", 3), build("b", 1)), "restart"),  # aborted: restart before judging
        (as_map(build("a", None, finished=False), build("b", 1)), "wait"),
        (as_map(build("a", 12), build("b", 1)), "breaks"),  # not deterministic is the job's own failure
    ],
)
def test_verdicts(head: dict[tuple[str, str], HydraBuild], verdict: str) -> None:
    base = as_map(build("a", 0), build("b", 1))
    assert compare_builds(base, head).verdict == verdict


def test_the_latest_build_of_a_job_counts() -> None:
    text = json.dumps(
        [
            {"id": 7, "job": "a", "system": "x86_64-linux", "finished": 1, "buildstatus": 0},
            {"id": 5, "job": "a", "system": "x86_64-linux", "finished": 1, "buildstatus": 1},
        ]
    )
    assert parse_hydra_builds(text)[("a", "x86_64-linux")].buildstatus == 0


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_command(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hydra-compare", str(BASE), str(HEAD_CSV), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        data = json.loads(out)
        assert data["verdict"] == "breaks"
        assert [r["job"] for r in data["newly_failing"]] == ["podman.x86_64-linux", "qemu.x86_64-linux"]
    else:
        assert "Not ready" in out and "qemu.x86_64-linux" in out and "firecracker.x86_64-linux" in out


@pytest.mark.parametrize(
    "content, what",
    [
        ("[{", "not valid JSON"),
        ('{"x": 1}', "expected a list"),
        ('[{"job": "a", "system": "s"}]', "no `finished`"),
        ('[{"job": "a", "system": "s", "finished": "maybe"}]', "`finished`"),
        ('[{"job": "a", "system": "s", "finished": 1, "buildstatus": "x"}]', "`buildstatus`"),
        ('[{"job": ["a"], "system": "s", "finished": 1}]', "`job`"),
        ("id,name\n1,a\n", "no column"),
        ("\xff", "not UTF-8"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, content: str, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content.encode("latin-1"))
    assert main(["hydra-compare", str(bad), str(HEAD)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and what in err and "Traceback" not in err


FIELDS = ["job", "system", "finished", "buildstatus", "id", "drvpath", "nixname", "builds", "x"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | JSON.map(json.dumps))
def test_fuzz_only_input_errors(text: str) -> None:
    """Whatever the text (CSV-ish or JSON of any shape), the loader returns builds or raises InputError."""
    with contextlib.suppress(InputError):
        builds = parse_hydra_builds(text)
        assert all(isinstance(b, HydraBuild) for b in builds.values())
