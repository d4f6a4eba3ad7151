"""impact.nix with a fake runner: the command lines it builds, its errors, and how it reads Nix's answers.

Real Nix runs in tests/integration/.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from impact.errors import NixError
from impact.nix import CHUNK, Nix, error_summary, eval_attrs_expression, isolated_nix, jobs_jsonl


class FakeRunner:
    """Answers each command from a list of (stdout, stderr, returncode), recording the commands."""

    def __init__(self, *answers: tuple[str, str, int]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, command: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        self.calls.append((list(command), dict(env)))
        out, err, code = self.answers.pop(0)
        return subprocess.CompletedProcess(list(command), code, out, err)


def test_nix_commands_get_the_experimental_flag_and_store() -> None:
    drv = f"/nix/store/{'a' * 32}-x.drv"
    runner = FakeRunner(("nix (Nix) 2.8.0\n", "", 0), (json.dumps({drv: {}}), "", 0))
    nix = Nix(store="local?root=/tmp/r", runner=runner)
    assert nix.show_derivation([drv]) == {drv: {}}
    assert runner.calls[1][0] == [
        "nix",
        "--extra-experimental-features",
        "nix-command",
        "--store",
        "local?root=/tmp/r",
        "show-derivation",
        "-r",
        "--",
        drv,
    ]
    assert nix.command("nix-instantiate", "x.nix") == ["nix-instantiate", "--store", "local?root=/tmp/r", "x.nix"]


@pytest.mark.parametrize(
    "path",
    [
        "--option",
        "allow-unsafe-native-code-during-evaluation",
        "--expr",
        "/nix/store/../../etc/passwd.drv",
        f"/nix/store/{'a' * 32}-x",  # an output, not a .drv
        f"/nix/store/{'e' * 32}-x.drv",  # `e` is not in Nix's base-32 alphabet
        f"/nix/store/{'a' * 32}-.hidden.drv",
        f"/gnu/store/{'a' * 32}-x.drv",
        f"/nix/store/{'a' * 32}-x.drv\n--impure",
    ],
)
def test_show_derivation_takes_only_drv_paths_of_its_store(path: str) -> None:
    """A path an evaluated tree chose never reaches Nix's command line unless it is a .drv path of the store."""
    runner = FakeRunner(("nix (Nix) 2.8.0\n", "", 0), ("{}", "", 0))
    with pytest.raises(NixError, match="refusing to show"):
        Nix(runner=runner).show_derivation([f"/nix/store/{'b' * 32}-ok.drv", path])
    assert not [c for c, _ in runner.calls if "show-derivation" in c]


def test_paths_follow_a_double_dash() -> None:
    """Every file or expression given to Nix comes after `--` (no common option such as `--option` is read
    there), and a file is absolute, so it never starts with `-` (Nix 2.8's nix-instantiate still reads its own
    flags after `--`)."""
    runner = FakeRunner(*[(f"/nix/store/{'a' * 32}-x.drv\n", "", 0)] * 2, ("1", "", 0), ("2", "", 0))
    nix = Nix(runner=runner)
    nix.instantiate("-file.nix", ["a"], argstrs={"k": "v"})
    nix.instantiate(Path("x.nix"))
    nix.eval_json("-f.nix", attr="x")
    nix.eval_json(expr="1 + 1")
    for command, _ in runner.calls:
        assert command[-2] == "--" and command.count("--") == 1, command
    assert runner.calls[0][0][-1] == os.path.abspath("-file.nix") and runner.calls[3][0][-1] == "1 + 1"
    assert nix.store_dir == "/nix/store"
    assert Nix(store="local?root=/r&store=/gnu/store").store_dir == "/gnu/store"


def test_where_a_store_keeps_its_files(tmp_path: Path) -> None:
    """A job's .drv must be a file the evaluation wrote: impact looks for it where the store keeps it."""
    drv = f"/nix/store/{'a' * 32}-x.drv"
    assert Nix().real_path(drv) == Path(drv) and Nix(store="daemon").real_path(drv) == Path(drv)
    assert Nix(store="local?root=/r").real_path(drv) == Path(f"/r{drv}")
    assert Nix(store="/r").real_path(drv) == Path(f"/r{drv}")
    assert isolated_nix(tmp_path).real_path(drv) == Path(f"{tmp_path}{drv}")
    assert Nix(store="local?real=/r/store").real_path(drv) == Path(f"/r/store/{'a' * 32}-x.drv")
    assert Nix(store="ssh://builder").real_path(drv) is None


def test_newer_nix_uses_derivation_show_and_merges_wrapped_chunks() -> None:
    paths = [f"/nix/store/{i:032d}-p.drv" for i in range(CHUNK + 1)]
    first = json.dumps({"derivations": {"a.drv": {}}, "version": 4})
    second = json.dumps({"derivations": {"b.drv": {}}, "version": 4})
    runner = FakeRunner(("nix (Nix) 2.31.2\n", "", 0), (first, "", 0), (second, "", 0))
    doc = Nix(runner=runner).show_derivation(paths, recursive=False)
    assert doc == {"derivations": {"a.drv": {}, "b.drv": {}}, "version": 4}
    assert runner.calls[1][0][3:5] == ["derivation", "show"] and "-r" not in runner.calls[1][0]
    assert len(runner.calls[1][0]) == 6 + CHUNK and runner.calls[2][0][6:] == paths[CHUNK:]


def test_failure_raises_nix_error_with_command_and_stderr() -> None:
    stderr = "error: attribute 'nope' in selection path 'nope' not found\n(use '--show-trace' to show detailed location information)\n"
    runner = FakeRunner(("", stderr, 1))
    with pytest.raises(NixError) as e:
        Nix(runner=runner).instantiate("pkgs.nix", ["nope"])
    assert str(e.value) == "nix-instantiate failed: attribute 'nope' in selection path 'nope' not found"
    assert e.value.command == ["nix-instantiate", "-A", "nope", "--", os.path.abspath("pkgs.nix")]
    assert e.value.stderr == stderr


def test_error_summary_falls_back_to_the_last_line() -> None:
    assert error_summary("warning: x\nsomething broke\n") == "something broke"
    assert error_summary("") == "no output"


def test_instantiate_strips_output_suffixes_and_passes_arguments() -> None:
    runner = FakeRunner(
        ("/nix/store/a-x.drv\n/nix/store/a-x.drv!dev\n", "warning: you did not specify '--add-root'", 0)
    )
    drvs = Nix(runner=runner).instantiate("p.nix", ["x", "x.dev"], args={"n": "1"}, argstrs={"s": "v"})
    assert drvs == ["/nix/store/a-x.drv", "/nix/store/a-x.drv"]
    assert runner.calls[0][0] == [
        "nix-instantiate",
        "-A",
        "x",
        "-A",
        "x.dev",
        "--arg",
        "n",
        "1",
        "--argstr",
        "s",
        "v",
        "--",
        os.path.abspath("p.nix"),
    ]


def test_eval_attrs_runs_the_shipped_expression_read_write(tmp_path: Path) -> None:
    line = {
        "attr": "a",
        "attrPath": ["a"],
        "drvPath": "/nix/store/a-x.drv",
        "name": "x",
        "system": "s",
        "outputs": {},
        "meta": {},
    }
    runner = FakeRunner((json.dumps([line]), "", 0))
    nix = isolated_nix(tmp_path / "store", runner)
    lines = nix.eval_attrs(
        tmp_path / "release.nix", [["a"]], args={"systems": ["s"]}, force_recurse=True, jobset="nixos"
    )
    assert lines == [dict(line, jobset="nixos")]
    command, env = runner.calls[0]
    assert command[:3] == ["nix-instantiate", "--store", f"local?root={(tmp_path / 'store').resolve()}"]
    assert {"--eval", "--strict", "--json", "--read-write-mode", str(eval_attrs_expression())} <= set(command)
    argstrs = {command[i + 1]: command[i + 2] for i, c in enumerate(command) if c == "--argstr"}
    assert json.loads(argstrs["attrsJson"]) == [["a"]] and json.loads(argstrs["argsJson"]) == {"systems": ["s"]}
    assert argstrs["file"] == str((tmp_path / "release.nix").resolve())
    assert env["XDG_CACHE_HOME"].startswith(str(tmp_path))
    assert eval_attrs_expression().is_file()
    assert json.loads(jobs_jsonl(lines).splitlines()[0])["jobset"] == "nixos"


def test_missing_nix_binary_is_a_nix_error() -> None:
    with pytest.raises(NixError, match="not found: is Nix installed"):
        Nix().run("nix-instantiate-that-does-not-exist", "--version")
