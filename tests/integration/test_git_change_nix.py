"""`impact estimate --git` against Nix's own answer, on the small nixpkgs-like tree in fixtures_git/.

The tree is copied into a git repository whose first commit is tagged `base`; each scenario is one commit on a
branch of its own from `base` (a leaf edit, a patch, a new package, an override, a package-set binding, a NixOS
module, a NixOS test, a computed import, a doc edit, a comment-only edit, deletions, a rename, a binary file, a
break…). For each, Nix's answer is `impact eval` of BASE and of HEAD, both exported (no `.git`) into the same
folder — the `nixos-version` job embeds the tree — and an out-path diff of the two job lists written here, apart
from impact's `--git` code. `impact estimate --git base..SCENARIO --snapshot BASE_SNAPSHOT --json` must equal it job
for job whenever it says its answer is exact, and be a lower bound when it says it is not.

Each scenario also states the diff Nix is expected to give (`test_nix_diff_is_the_scenario`), so that a change of
the fixture that makes a scenario pointless (nothing changes, or everything) fails on its own.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from impact.cli import main
from tests.conftest import require_nix

pytestmark = pytest.mark.nix

FIXTURE = Path(__file__).parent / "fixtures_git"
SYSTEMS = ("x86_64-linux", "aarch64-linux")
EVAL_OPTIONS = [*(a for s in SYSTEMS for a in ("--system", s)), "--nixos", "--timeout", "300", "--memory", "4G"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_AUTHOR_DATE": "2019-03-19T12:00:00Z",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_COMMITTER_DATE": "2019-03-19T12:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}
#: The job that embeds the nixpkgs source tree: it changes with every commit.
EVERY_COMMIT = frozenset({"nixos:nixos-version.x86_64-linux"})
KINDS = ("changed", "added", "removed", "broken")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    ).stdout


def edit(repo: Path, path: str, old: str, new: str) -> None:
    """Replace `old` (which must be there, once) by `new` in `path` of `repo`."""
    file = repo / path
    text = file.read_text()
    assert text.count(old) == 1, (path, old)
    file.write_text(text.replace(old, new))


def both(attr: str) -> frozenset[str]:
    """The nixpkgs jobs of `attr` on both systems."""
    return frozenset(f"nixpkgs:{attr}.{s}" for s in SYSTEMS)


def nixos_test(name: str) -> frozenset[str]:
    """The nixos job of the NixOS test `name` (the nixos jobset is evaluated for the first system only)."""
    return frozenset({f"nixos:tests.{name}.x86_64-linux"})


# -- the scenarios --------------------------------------------------------------------------------------------


def leaf(repo: Path) -> None:
    edit(repo, "pkgs/tools/misc/cowsay/default.nix", '"cowsay-3.03"', '"cowsay-3.04"')


def patch_file(repo: Path) -> None:
    edit(repo, "pkgs/tools/misc/patched/fix.patch", "+  return 0;", "+  return 0; /* fixed */")


def new_package(repo: Path) -> None:
    folder = repo / "pkgs/tools/misc/newtool"
    folder.mkdir()
    (folder / "default.nix").write_text(
        '{ stdenv, zlib }:\n\nstdenv.mkDerivation {\n  name = "newtool-0.1";\n  buildInputs = [ zlib ];\n'
        '  meta.description = "A new tool";\n}\n'
    )
    edit(
        repo,
        "pkgs/top-level/all-packages.nix",
        "  cowsay = callPackage",
        "  newtool = callPackage ../tools/misc/newtool { };\n\n  cowsay = callPackage",
    )


def override(repo: Path) -> None:
    # foo's own binding changes; fooWithX = foo.override { … } is another derivation, which only the use of the name
    # `foo` in all-packages.nix leads to (its meta.position is foo's file, which did not change).
    edit(
        repo,
        "pkgs/top-level/all-packages.nix",
        "foo = callPackage ../tools/misc/foo { };",
        "foo = callPackage ../tools/misc/foo { gawk = gnused; };",
    )


def library(repo: Path) -> None:
    edit(repo, "pkgs/development/libraries/libfoo/default.nix", '"libfoo-1.0"', '"libfoo-1.1"')


def library_patch_missing(repo: Path) -> None:
    # libbar names a patch that is not there: it stops Nix (tryEval cannot catch it), and so does baz, which
    # takes libbar plainly: the round of a broken binding's plain users evaluates baz, which stops Nix in turn.
    libbar = "pkgs/development/libraries/libbar/default.nix"
    edit(repo, libbar, "  buildInputs", "  patches = [ ./gone.patch ];\n  buildInputs")


def library_patch_missing_and_user(repo: Path) -> None:
    # As above, and baz is edited too: both are candidates of one Nix process; libbar (which more derivations
    # take) stops it first, and baz is set aside for its sake without being evaluated: not exact, and said.
    library_patch_missing(repo)
    edit(repo, "pkgs/applications/misc/baz/default.nix", '"baz-0.9"', '"baz-0.9.1"')


def package_set_binding(repo: Path) -> None:
    edit(repo, "pkgs/top-level/python-packages.nix", 'version = "1.12.0";', 'version = "1.13.0";')


def module(repo: Path) -> None:
    edit(repo, "nixos/modules/services/web-servers/nginx.nix", "worker_connections 64;", "worker_connections 128;")


def nixos_test_script(repo: Path) -> None:
    edit(repo, "nixos/tests/hello.nix", 'machine.succeed("hello")', 'machine.succeed("hello --version")')


def new_nixos_test(repo: Path) -> None:
    (repo / "nixos/tests/nano-plus.nix").write_text(
        (repo / "nixos/tests/nano.nix").read_text().replace('name = "nano"', 'name = "nano-plus"')
    )
    edit(
        repo,
        "nixos/tests/all-tests.nix",
        "  nano = handleTest",
        "  nano-plus = handleTest ./nano-plus.nix { };\n  nano = handleTest",
    )


def nixos_testing_lib(repo: Path) -> None:
    # The test driver every NixOS test reads (through make-test.nix): every test changes, no other job.
    edit(repo, "nixos/lib/testing.nix", '[ "kvm" "nixos-test" ]', '[ "kvm" "nixos-test" "benchmark" ]')


def package_set_builder(repo: Path) -> None:
    # A `let` binding of python-packages.nix that its set also inherits, used by every Python package.
    edit(
        repo,
        "pkgs/top-level/python-packages.nix",
        'name = "python3.7-${pname}-${version}";',
        'name = "python3.7.2-${pname}-${version}";',
    )


def computed_import(repo: Path) -> None:
    edit(repo, "pkgs/misc/computed/settings.nix", '"--enable-feature"', '"--disable-feature"')


def integer_to_float(repo: Path) -> None:
    # 8 and 8.0 are equal numbers, but a derivation holds them as "8" and "8.000000"; Nix's printer writes both `8`.
    edit(repo, "pkgs/tools/text/gawk/default.nix", "stackSize = 8;", "stackSize = 8.0;")


def doc(repo: Path) -> None:
    edit(repo, "doc/manual.md", "## Adding a package", "## Adding a package to nixpkgs")


def comments(repo: Path) -> None:
    # Comments and layout only, in a package-set file, a package and a NixOS module: Nix reads them the same.
    edit(repo, "pkgs/top-level/all-packages.nix", "  ### TOOLS\n", "  ### TOOLS (command line)\n")
    edit(
        repo,
        "pkgs/top-level/all-packages.nix",
        "bar = callPackage ../applications/misc/bar { };",
        "bar = callPackage\n    ../applications/misc/bar { };",
    )
    edit(repo, "pkgs/tools/misc/cowsay/default.nix", "{ stdenv }:", "# The cow.\n{ stdenv\n}:")
    edit(repo, "nixos/modules/system/boot/kernel.nix", '[ "console=ttyS0" ]', '[\n    "console=ttyS0" # serial\n  ]')


def deleted_package(repo: Path) -> None:
    shutil.rmtree(repo / "pkgs/applications/misc/oldapp")
    edit(repo, "pkgs/top-level/all-packages.nix", "  oldapp = callPackage ../applications/misc/oldapp { };\n\n", "")


def broken(repo: Path) -> None:
    # bar now reads an attribute libfoo does not have: bar's jobs no longer evaluate (nothing uses bar).
    edit(repo, "pkgs/applications/misc/bar/default.nix", "[ libfoo.dev ]", "[ libfoo.dev libfoo.missingOutput ]")


def deleted_patch(repo: Path) -> None:
    # The patch is gone but still named: `patched` no longer evaluates, nor does the NixOS test that installs it.
    (repo / "pkgs/tools/misc/patched/fix.patch").unlink()


def renamed(repo: Path) -> None:
    # A package moved to another folder (git sees a deletion and an addition): its derivation is the same.
    (repo / "pkgs/games").mkdir()
    (repo / "pkgs/tools/misc/cowsay").rename(repo / "pkgs/games/cowsay")
    edit(repo, "pkgs/top-level/all-packages.nix", "../tools/misc/cowsay", "../games/cowsay")


def binary(repo: Path) -> None:
    icon = repo / "pkgs/applications/misc/hello/icon.png"
    icon.write_bytes(icon.read_bytes() + b"\x00\xff\x00")


def symlink(repo: Path) -> None:
    # The patch becomes a link (inside the tree) to a new file: git sees a type change and an addition.
    folder = repo / "pkgs/tools/misc/patched"
    (folder / "fix-v2.patch").write_text((folder / "fix.patch").read_text() + "+/* v2 */\n")
    (folder / "fix.patch").unlink()
    (folder / "fix.patch").symlink_to("fix-v2.patch")


def repoint(repo: Path) -> None:
    edit(repo, "pkgs/top-level/all-packages.nix", "editor = vim;", "editor = nano;")


def package_set_frame(repo: Path) -> None:
    # The Python set file's own function takes one more argument: the whole file changes, every package stays.
    edit(
        repo,
        "pkgs/top-level/python-packages.nix",
        "{ pkgs, stdenv, lib, python }:",
        "{ pkgs, stdenv, lib, python, extra ? null }:",
    )


def nixos_release_binding(repo: Path) -> None:
    edit(repo, "nixos/release.nix", "modules = [ ]; }", 'modules = [ { boot.kernelParams = [ "quiet" ]; } ]; }')


def formals_order(repo: Path) -> None:
    # bar's arguments in another order (the same function for Nix) and a comment in all-packages.nix.
    edit(repo, "pkgs/applications/misc/bar/default.nix", "{ stdenv, libfoo }:", "{ lib, stdenv, libfoo }:")
    edit(repo, "pkgs/top-level/all-packages.nix", "  ### TOOLS\n", "  ### TOOLS (command line)\n")


def combined(repo: Path) -> None:
    for make in (leaf, new_package, package_set_binding, module, doc):
        make(repo)


def meta_only(repo: Path) -> None:
    # meta is not passed to the derivation: the package file changes, its derivation does not.
    edit(repo, "pkgs/tools/misc/cowsay/default.nix", "generates ASCII pictures", "draws ASCII pictures")


def still_failing(repo: Path) -> None:
    edit(repo, "pkgs/misc/insecure/default.nix", "refusing to evaluate", "refusing to evaluate it")


def fixed(repo: Path) -> None:
    edit(
        repo,
        "pkgs/misc/insecure/default.nix",
        'throw "insecure-0.1 is marked as insecure, refusing to evaluate"',
        "null",
    )


def lib_edit(repo: Path) -> None:
    edit(repo, "lib/default.nix", "    optional = cond:", "    id = x: x;\n    optional = cond:")


#: The NixOS tests and the Python package set's derivations of the fixture.
TESTS = sorted(p.stem for p in (FIXTURE / "nixos/tests").glob("*.nix") if p.stem not in ("all-tests", "make-test"))
PYTHON_PACKAGES = [
    "attrs", "certifi", "chardet", "click", "docutils", "flask", "idna", "itsdangerous", "jinja2", "markupsafe",
    "numpy", "pluggy", "py", "pytest", "python", "pyyaml", "requests", "setuptools", "six", "toml", "urllib3", "werkzeug",
]  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """One commit on `base`, what Nix's diff of it is, and the verdict impact must give."""

    name: str
    make: Callable[[Path], None]
    changed: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    broken: frozenset[str] = frozenset()
    exact: bool = True
    #: When not exact: a text one of the reasons must hold (the file, and why).
    reason: str = ""
    #: When impact's answer is known to be wrong: why (the scenario is then a strict xfail).
    bug: str = ""

    def nix(self) -> dict[str, frozenset[str]]:
        return {
            "changed": self.changed | EVERY_COMMIT,
            "added": self.added,
            "removed": self.removed,
            "broken": self.broken,
        }


SCENARIOS = [
    Scenario("leaf", leaf, changed=both("cowsay") | nixos_test("cowsay")),
    Scenario("patch", patch_file, changed=both("patched") | nixos_test("patched")),
    Scenario("new-package", new_package, added=both("newtool")),
    Scenario("override", override, changed=both("foo") | both("fooWithX") | nixos_test("foo")),
    Scenario("library", library, changed=both("libfoo") | both("libbar") | both("bar") | both("baz")),
    Scenario("library-patch-missing", library_patch_missing, broken=both("libbar") | both("baz")),
    Scenario(
        "library-patch-missing-and-user",
        library_patch_missing_and_user,
        broken=both("libbar") | both("baz"),
        exact=False,
        reason="need a job that stopped Nix",
    ),
    Scenario(
        "package-set-binding",
        package_set_binding,
        changed=both("pyPackages.six") | both("pyPackages.pytest") | both("pyPackages.numpy"),
    ),
    Scenario("module", module, changed=nixos_test("nginx") | nixos_test("webapp")),
    Scenario("nixos-test", nixos_test_script, changed=nixos_test("hello")),
    Scenario("new-nixos-test", new_nixos_test, added=nixos_test("nano-plus")),
    Scenario("nixos-testing-lib", nixos_testing_lib, changed=frozenset(f"nixos:tests.{n}.x86_64-linux" for n in TESTS)),
    Scenario(
        "package-set-builder",
        package_set_builder,
        changed=frozenset().union(*(both(f"pyPackages.{n}") for n in PYTHON_PACKAGES if n != "python"))
        | nixos_test("python")
        | nixos_test("webapp"),
    ),
    # settings.nix is imported through a path built from text: the unit that does it may read any file, so it is a
    # candidate of every change, and Nix's evaluation of it gives the answer.
    Scenario("computed-import", computed_import, changed=both("computed")),
    Scenario(
        "integer-to-float",
        integer_to_float,
        changed=both("gawk") | both("foo") | both("fooWithX") | nixos_test("foo"),
    ),
    Scenario("doc", doc),
    Scenario("comments", comments),
    Scenario("deleted-package", deleted_package, removed=both("oldapp")),
    Scenario("broken", broken, broken=both("bar")),
    Scenario(
        "deleted-patch",
        deleted_patch,
        broken=both("patched") | nixos_test("patched"),
    ),
    Scenario("renamed", renamed),
    Scenario("binary", binary, changed=both("hello") | nixos_test("hello")),
    Scenario("symlink", symlink, changed=both("patched") | nixos_test("patched")),
    # The plain users of a re-pointed attribute are evaluated too (the graph cannot see re-pointing): exact.
    Scenario("repoint", repoint, changed=both("editor") | nixos_test("editor")),
    Scenario("lib", lib_edit, exact=False, reason="lib/default.nix"),
    Scenario("package-set-frame", package_set_frame),
    Scenario("meta-only", meta_only),
    Scenario("still-failing", still_failing),
    Scenario("fixed", fixed, added=both("insecure")),
    Scenario(
        "nixos-release-binding", nixos_release_binding, changed=frozenset({"nixos:closures.minimal.x86_64-linux"})
    ),
    Scenario(
        "formals-order",
        formals_order,
    ),
    Scenario(
        "combined",
        combined,
        changed=both("cowsay")
        | nixos_test("cowsay")
        | both("pyPackages.six")
        | both("pyPackages.pytest")
        | both("pyPackages.numpy")
        | nixos_test("nginx")
        | nixos_test("webapp"),
        added=both("newtool"),
    ),
]
BY_NAME = {s.name: s for s in SCENARIOS}


# -- the repository, Nix's answers and impact's ---------------------------------------------------------------


def jobs_of(snapshot: Path) -> dict[str, dict[str, Any]]:
    """`jobset:attr` → the job line of an `impact eval` snapshot folder."""
    out = {}
    for text in gzip.decompress((snapshot / "jobs.jsonl.gz").read_bytes()).splitlines():
        line = json.loads(text)
        out[f"{line.get('jobset', 'nixpkgs')}:{line['attr']}"] = line
    return out


def outpath_diff(base: dict[str, dict[str, Any]], head: dict[str, dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Nix's answer from two job lists, by output paths: changed (evaluates on both sides, an output path differs),
    added (evaluates in HEAD, not in BASE), removed (evaluates in BASE, gone from HEAD), broken (evaluates in BASE,
    fails in HEAD)."""
    ok_base = {k: v["outputs"] for k, v in base.items() if "error" not in v}
    ok_head = {k: v["outputs"] for k, v in head.items() if "error" not in v}
    return {
        "changed": frozenset(k for k in ok_base.keys() & ok_head.keys() if ok_base[k] != ok_head[k]),
        "added": frozenset(ok_head.keys() - ok_base.keys()),
        "removed": frozenset(ok_base.keys() - head.keys()),
        "broken": frozenset(k for k in ok_base.keys() & head.keys() if "error" in head[k]),
    }


def impact_sets(answer: dict[str, Any]) -> dict[str, frozenset[str]]:
    """The same four sets from `impact estimate --git --json`."""

    def flat(jobs: dict[str, Any]) -> frozenset[str]:
        return frozenset(f"{js}:{a}" for js, attrs in jobs.items() for a in attrs)

    return {
        "changed": flat(answer["changed_jobs"]),
        "added": flat(answer["added_jobs"]),
        "removed": flat(answer["removed_jobs"]),
        "broken": flat(answer["broken_jobs"]),
    }


@dataclass
class World:
    """The repository with a branch a scenario, BASE's snapshot, and the answers found so far."""

    root: Path
    repo: Path
    base_snapshot: Path = Path()
    base_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    nix_answers: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    impact_answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def place(self) -> Path:
        """Where every tree is evaluated (one folder: the `nixos-version` job embeds its path)."""
        return self.root / "eval" / "nixpkgs"

    def evaluate(self, fill: Callable[[Path], None], name: str) -> Path:
        """`impact eval` of the tree `fill` writes into the evaluation folder; the snapshot folder."""
        shutil.rmtree(self.place, ignore_errors=True)
        self.place.mkdir(parents=True)
        fill(self.place)
        snapshot = self.root / "snapshots" / name
        code = main(
            [
                "eval",
                str(self.place),
                "-o",
                str(snapshot),
                *EVAL_OPTIONS,
                "--store",
                f"local?root={self.root / 'store'}",
            ]
        )
        assert code == 0
        return snapshot

    def export(self, rev: str) -> Callable[[Path], None]:
        def fill(dest: Path) -> None:
            archive = subprocess.run(
                ["git", "-C", str(self.repo), "archive", rev], check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)

        return fill

    def nix_answer(self, rev: str) -> dict[str, frozenset[str]]:
        if rev not in self.nix_answers:
            self.nix_answers[rev] = outpath_diff(self.base_jobs, jobs_of(self.evaluate(self.export(rev), rev)))
        return self.nix_answers[rev]

    def estimate(
        self, capsys: pytest.CaptureFixture[str], spec: str, *extra: str, repo: Path | None = None
    ) -> tuple[int, str, str]:
        """`impact estimate --git SPEC` on BASE's snapshot: exit code, stdout, stderr."""
        args = ["estimate", "--git", spec, "--repo", str(repo or self.repo), "--snapshot", str(self.base_snapshot)]
        return run(capsys, *args, *extra)

    def impact_answer(self, capsys: pytest.CaptureFixture[str], rev: str) -> dict[str, Any]:
        if rev not in self.impact_answers:
            code, out, err = self.estimate(capsys, f"base..{rev}", "--json")
            assert code == 0, err
            self.impact_answers[rev] = json.loads(out)
        return self.impact_answers[rev]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """impact's command line in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The fixture committed as `base`, a branch a scenario, and BASE evaluated by `impact eval`."""
    require_nix()
    root = tmp_path_factory.mktemp("gitchange")
    repo = root / "repo" / "nixpkgs"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "tag", "base")
    for s in SCENARIOS:
        git(repo, "checkout", "-q", "-b", s.name, "base")
        s.make(repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", s.name)
    git(repo, "checkout", "-q", "master")
    w = World(root, repo)
    w.base_snapshot = w.evaluate(w.export("base"), "base")
    w.base_jobs = jobs_of(w.base_snapshot)
    return w


# -- Nix's answers are the scenarios' -------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_nix_diff_is_the_scenario(world: World, scenario: Scenario) -> None:
    """Each scenario changes what it is meant to, as Nix says (so a test of impact on it means something)."""
    assert world.nix_answer(scenario.name) == scenario.nix()


def test_base_evaluates_as_expected(world: World) -> None:
    """The fixture's shape where the method reads it: two systems of nixpkgs jobs (a second package set under
    `pyPackages`), ≥ 20 NixOS tests, the every-commit job, and one job that never evaluates."""
    jobs = world.base_jobs
    errors = {k for k, v in jobs.items() if "error" in v}
    assert errors == both("insecure")
    attrs = {k.split(":")[1].rsplit(".", 1)[0] for k in jobs if k.startswith("nixpkgs:")}
    assert {k.rsplit(".", 1)[1] for k in jobs if k.startswith("nixpkgs:")} == set(SYSTEMS)
    assert len(attrs - {f"pyPackages.{n}" for n in PYTHON_PACKAGES}) >= 20
    assert {a.split(".")[1] for a in attrs if a.startswith("pyPackages.")} == set(PYTHON_PACKAGES)
    assert len(TESTS) >= 20
    nixos = {k for k in jobs if k.startswith("nixos:")}
    assert nixos == EVERY_COMMIT | {"nixos:closures.minimal.x86_64-linux"} | {
        f"nixos:tests.{n}.x86_64-linux" for n in TESTS
    }


# -- impact's answers -----------------------------------------------------------------------------------------


def _scenario_params() -> list[Any]:
    return [
        pytest.param(s, id=s.name, marks=[pytest.mark.xfail(strict=True, reason=s.bug)] if s.bug else [])
        for s in SCENARIOS
    ]


@pytest.mark.parametrize("scenario", _scenario_params())
def test_git_answer_is_nix_answer_when_exact(
    world: World, scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exact: changed, added, removed and broken jobs are Nix's, job for job. Not exact: a lower bound of Nix's,
    and a reason naming the file. Either way, the verdict the scenario calls for."""
    nix = world.nix_answer(scenario.name)
    answer = world.impact_answer(capsys, scenario.name)
    verdict = answer["verdict"]
    told = impact_sets(answer)
    if verdict["exact"]:
        assert verdict["reasons"] == []
        assert told == nix
    else:
        for kind in KINDS:
            assert told[kind] <= nix[kind], kind
    assert verdict["exact"] is scenario.exact, verdict["reasons"]
    if not scenario.exact:
        assert any(scenario.reason in r for r in verdict["reasons"]), verdict["reasons"]


def test_comment_only_changes_no_unit(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A comment or layout change is read as no change at all: the binding diff says so, nothing is evaluated."""
    git_info = world.impact_answer(capsys, "comments")["git"]
    for path in (
        "pkgs/top-level/all-packages.nix",
        "pkgs/tools/misc/cowsay/default.nix",
        "nixos/modules/system/boot/kernel.nix",
    ):
        assert git_info["file_changes"][path].startswith("comments or layout only"), git_info["file_changes"]
    assert git_info["candidates"]["attributes"] == []
    assert git_info["evaluated_jobs"] == {"base": 0, "head": 0}


def test_package_set_binding_is_read_binding_by_binding(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the changed binding of python-packages.nix is a candidate, under its set's prefix."""
    git_info = world.impact_answer(capsys, "package-set-binding")["git"]
    assert git_info["file_changes"]["pkgs/top-level/python-packages.nix"] == "1 binding changed"
    assert "nixpkgs:pyPackages.six" in git_info["candidates"]["attributes"]
    assert "nixpkgs:pyPackages" not in git_info["candidates"]["attributes"]


def test_broken_jobs_carry_nix_message(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A job that no longer evaluates is a break with Nix's message, not a rebuild."""
    answer = world.impact_answer(capsys, "broken")
    messages = answer["broken_jobs"]["nixpkgs"]
    assert set(messages) == {f"bar.{s}" for s in SYSTEMS}
    assert all("missingOutput" in m for m in messages.values()), messages
    assert not any(a.startswith("bar.") for a in answer["changed_jobs"].get("nixpkgs", []))


def test_new_package_in_markdown_and_changed_paths(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """`--format markdown` carries the verdict and the added jobs; `--format changed-paths` the added attribute."""
    code, out, err = world.estimate(capsys, "base..new-package", "--format", "markdown")
    assert code == 0, err
    assert "**Verdict: exact**" in out
    assert "2 jobs added" in out and "`nixpkgs:newtool.x86_64-linux`" in out
    code, out, err = world.estimate(capsys, "base..new-package", "--format", "changed-paths")
    assert code == 0, err
    paths = json.loads(out)
    assert paths["attrdiff"]["added"] == ["newtool"]
    assert paths["attrdiff"]["changed"] == []


def test_require_exact_exits_3_when_not_exact(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = world.estimate(capsys, "base..lib", "--require-exact", "--json")
    assert code == 3, err
    assert json.loads(out)["verdict"]["exact"] is False
    code, _, err = world.estimate(capsys, "base..leaf", "--require-exact")
    assert code == 0, err


def test_text_output_says_the_verdict(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = world.estimate(capsys, "base..lib")
    assert code == 0, err
    assert "Verdict: not exact — " in out and "lib/default.nix" in out


def test_empty_range_changes_nothing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """BASE..BASE is no commit: not even the every-commit jobs change."""
    code, out, err = world.estimate(capsys, "base..base", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["verdict"] == {"exact": True, "reasons": []}
    assert impact_sets(answer) == dict.fromkeys(KINDS, frozenset())


def test_snapshot_that_is_not_base_is_not_exact(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """The snapshot must be BASE's: answered on the evaluation of another commit (here the leaf scenario's, whose
    cowsay differs), the candidates' derivations in BASE disagree with it, and the answer says so."""
    world.nix_answer("leaf")  # evaluates the leaf commit: its snapshot
    args = ["estimate", "--git", "base..leaf", "--repo", str(world.repo), "--json"]
    code, out, err = run(capsys, *args, "--snapshot", str(world.root / "snapshots" / "leaf"))
    assert code == 0, err
    verdict = json.loads(out)["verdict"]
    assert verdict["exact"] is False
    assert any(r.startswith("snapshot: ") and "cowsay" in r for r in verdict["reasons"]), verdict["reasons"]


def test_full_is_nix_answer(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """`--full` evaluates every job of both sides: exact, and Nix's answer, where the candidates cannot bound it."""
    code, out, err = world.estimate(capsys, "base..computed-import", "--full", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["verdict"] == {"exact": True, "reasons": []}
    assert impact_sets(answer) == world.nix_answer("computed-import")


def test_working_tree_with_uncommitted_edit_and_untracked_file(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--git BASE` compares BASE with the working tree: uncommitted edits, a deletion, and a file git does not
    track yet."""
    clone = world.root / "clone" / "nixpkgs"
    subprocess.run(["git", "clone", "-q", str(world.repo), str(clone)], check=True, env={**os.environ, **GIT_ENV})
    git(clone, "checkout", "-q", "base")
    edit(clone, "pkgs/applications/editors/vim/default.nix", '"vim-8.1.0884"', '"vim-8.1.1000"')
    (clone / "pkgs/tools/misc/untracked").mkdir()
    (clone / "pkgs/tools/misc/untracked/default.nix").write_text(
        '{ stdenv }:\n\nstdenv.mkDerivation {\n  name = "untracked-1.0";\n  meta.description = "Not added to git yet";\n}\n'
    )
    edit(
        clone,
        "pkgs/top-level/all-packages.nix",
        "  gawk = callPackage",
        "  untracked = callPackage ../tools/misc/untracked { };\n\n  gawk = callPackage",
    )
    deleted_package(clone)
    assert git(clone, "status", "--porcelain").splitlines() == [
        " M pkgs/applications/editors/vim/default.nix",
        " D pkgs/applications/misc/oldapp/default.nix",
        " M pkgs/top-level/all-packages.nix",
        "?? pkgs/tools/misc/untracked/",
    ]

    def fill(dest: Path) -> None:
        shutil.copytree(clone, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))

    nix = outpath_diff(world.base_jobs, jobs_of(world.evaluate(fill, "working-tree")))
    assert nix["changed"] == EVERY_COMMIT | both("vim") | both("editor") | nixos_test("editor")
    assert nix["added"] == both("untracked")
    assert nix["removed"] == both("oldapp")
    code, out, err = world.estimate(capsys, "base", "--json", repo=clone)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["verdict"] == {"exact": True, "reasons": []}
    assert impact_sets(answer) == nix
    assert answer["git"]["head"] == "working tree"


def test_tree_that_is_not_nixpkgs_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A git repository that is not nixpkgs (no pkgs/top-level/release.nix): one line, exit 2."""
    other = world.root / "other"
    other.mkdir()
    (other / "default.nix").write_text("{ }\n")
    (other / "README").write_text("not nixpkgs\n")
    git(other, "init", "-q", "-b", "master")
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "one")
    (other / "default.nix").write_text("{ x = 1; }\n")
    git(other, "commit", "-q", "-am", "two")
    code, out, err = world.estimate(capsys, "HEAD~1..HEAD", repo=other)
    assert (code, out) == (2, "")
    assert err.startswith("impact: error: ") and err.count("\n") == 1, err
    assert "pkgs/top-level/release.nix" in err


# -- impact pr: HEAD from the git change when exact, both sides in full otherwise -----------------------------

#: Scenarios `impact pr` answers from the git change (exact), and one it cannot (the lib edit: both in full).
PR_SCENARIOS = ("leaf", "new-package", "deleted-package", "broken", "repoint", "module", "lib")


def pr_report_json(world: World, capsys: pytest.CaptureFixture[str], rev: str, *extra: str) -> dict[str, Any]:
    """`impact pr base REV` on the fixture's repository: report.json. BASE is read from its snapshot, unless
    `--full` (then both sides are evaluated in full)."""
    out = world.root / "pr" / rev / ("full" if "--full" in extra else "git")
    args = ["pr", "base", rev, "--repo", str(world.repo), "-o", str(out)]
    if "--full" not in extra:  # in full, both sides are evaluated
        args += ["--base-snapshot", str(world.base_snapshot)]
    args += [*EVAL_OPTIONS, "--store", f"local?root={world.root / 'store'}", *extra]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    return json.loads((out / "report.json").read_text())


def _what_pr_says(report: dict[str, Any]) -> dict[str, Any]:
    """Everything in report.json that follows from the two evaluations (not how they were made)."""
    diff = report["diff"]
    return {
        "changed": diff["changed"],
        "added": diff["added"],
        "removed": diff["removed"],
        "by_system": diff["by_system"],
        "derivations_to_build": diff["derivations_to_build"],
        "derivations_to_build_by_system": diff["derivations_to_build_by_system"],
        "roots": sorted((r["name"], r["system"]) for r in diff["roots"]),
        "new_eval_errors": sorted((e["jobset"], e["attr"]) for e in diff["new_eval_errors"]),
        "repointed": sorted((r["jobset"], r["attr"]) for r in diff["repointed"]),
        "rebuilt": diff["rebuilt"],
        "every_commit": diff["every_commit"]["jobs"],
        "every_commit_derivations": diff["every_commit"]["derivations_to_build"],
        "agrees": diff["cross_check"]["agrees"],
        "findings": diff["cross_check"]["findings"],
        "labels": report["labels"],
        "branch": report["branch"]["target"],
    }


@pytest.mark.parametrize("rev", PR_SCENARIOS)
def test_pr_from_the_git_change_is_pr_in_full(world: World, capsys: pytest.CaptureFixture[str], rev: str) -> None:
    """`impact pr` on two git refs takes HEAD from the git change when it is exact (evaluating only the jobs the
    change moves) and says so; its report is the one both full evaluations give. Not exact: both in full."""
    by_git = pr_report_json(world, capsys, rev)
    in_full = pr_report_json(world, capsys, rev, "--full")
    scenario = BY_NAME[rev]
    assert by_git["evaluated"]["method"] == ("git" if scenario.exact else "full")
    if not scenario.exact:
        assert any(scenario.reason in r for r in by_git["evaluated"]["not_exact"]), by_git["evaluated"]
    assert in_full["evaluated"] == {"method": "full", "head_jobs": 0, "not_exact": []}
    assert _what_pr_says(by_git) == _what_pr_says(in_full)
    markdown = (world.root / "pr" / rev / "git" / "report.md").read_text()
    if scenario.exact:
        assert "the git change was answered exactly" in markdown
        assert 0 < by_git["evaluated"]["head_jobs"] < len(world.base_jobs)
    else:
        assert "Both sides were evaluated in full: the git change could not be answered exactly" in markdown


def test_snapshot_stands_for_base_nixos_jobset(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A module edit makes every NixOS job a candidate: HEAD's are evaluated, BASE's are the snapshot's, checked
    on a few of them, and the answer is still Nix's. `--full` evaluates BASE's too."""
    answer = world.impact_answer(capsys, "module")
    assert answer["verdict"] == {"exact": True, "reasons": []}
    assert impact_sets(answer) == world.nix_answer("module")
    nixos_jobs = sum(1 for k in world.base_jobs if k.startswith("nixos:"))
    assert answer["git"]["base_from_snapshot"] == {"nixos": nixos_jobs}
    assert answer["git"]["evaluated_jobs"]["base"] < nixos_jobs  # the spot checks and the nixpkgs candidates
    assert answer["git"]["evaluated_jobs"]["head"] >= nixos_jobs
    code, out, err = world.estimate(capsys, "base..module", "--full", "--json")
    assert code == 0, err
    full = json.loads(out)
    assert full["git"]["base_from_snapshot"] == {}
    assert impact_sets(full) == world.nix_answer("module")


def test_unbounded_change_leaves_the_nixos_jobset_to_the_graph(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unbounded change (a lib edit) is not exact whatever is evaluated: the whole NixOS jobset is not, and
    the answer says so."""
    answer = world.impact_answer(capsys, "lib")
    assert answer["verdict"]["exact"] is False
    assert any("NixOS jobset was not evaluated" in r for r in answer["verdict"]["reasons"]), answer["verdict"]
    assert not any(r.startswith("snapshot:") for r in answer["verdict"]["reasons"]), answer["verdict"]
