"""Real Nix as ground truth for `impact outputs` and the early-cutoff what-if.

The fixture (fixtures_outputs/default.nix) is a library with outputs out, dev and man, and consumers taking
each. Nix 2.8 builds it offline in a chroot store (sandboxed, with only /bin/sh and its libraries inside).
With `ca = true` every derivation is content-addressed, and Nix itself cuts off the consumers of outputs whose
content did not change: the derivations Nix builds after an edit of one output are read from its
`building '…'` lines, and compared with the what-if computed from the first evaluation's graph alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.outputs import package_outputs
from impact.analysis.rebuild import estimate
from impact.analysis.whatif import cutoff_rows, only_output
from impact.cli import main
from impact.loaders.eval_jobs import parse_job_lines
from impact.loaders.show_derivation import parse_derivations
from impact.model import DerivationGraph, path_name
from impact.nix import Nix, isolated_nix, jobs_jsonl, subprocess_runner
from tests.conftest import require_nix

pytestmark = pytest.mark.nix

FIXTURE = Path(__file__).parent / "fixtures_outputs" / "default.nix"
#: What the sandbox of a chroot store needs to run `/bin/sh` (Debian's dash and its libraries).
SANDBOX_PATHS = " ".join(
    [
        "/bin/sh=/bin/dash" if os.path.exists("/bin/dash") else "/bin/sh",
        *(p for p in ("/lib", "/lib64", "/usr/lib") if os.path.exists(p)),
    ]
)


def fixture_nix(root: Path) -> Nix:
    """An isolated store that can evaluate and build content-addressed derivations offline."""
    base = isolated_nix(root)
    config = "\n".join(
        ["experimental-features = nix-command ca-derivations", "substituters =", f"sandbox-paths = {SANDBOX_PATHS}"]
    )
    return Nix(store=base.store, env={**base.env, "NIX_CONFIG": config}, runner=base.runner, store_root=base.store_root)


def evaluate(nix: Nix, ca: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The fixture's jobs and `nix show-derivation -r` JSON."""
    lines = nix.eval_attrs(FIXTURE, args={"ca": ca}, jobset="fixture")
    assert lines and all("error" not in line for line in lines)
    return lines, nix.show_derivation(line["drvPath"] for line in lines)


def graph_of(lines: list[dict[str, Any]], derivations: dict[str, Any]) -> DerivationGraph:
    jobs = parse_job_lines(jobs_jsonl(lines).splitlines(), "fixture")[0]
    return DerivationGraph.from_records(parse_derivations(derivations), jobs, origin="fixture")


def build(nix: Nix, ca: bool, **texts: str) -> set[str]:
    """Build the whole fixture; the names of the derivations Nix built (from its `building '…'` lines)."""
    cmd = nix.command("nix-build", str(FIXTURE), "--no-out-link", "--arg", "ca", "true" if ca else "false")
    for k, v in texts.items():
        cmd += ["--argstr", k, v]
    done = subprocess_runner(cmd, dict(nix.env))
    assert done.returncode == 0, done.stderr
    built = set()
    for line in done.stderr.splitlines():
        if line.startswith("building '"):
            built.add(path_name(line.split("'")[1]).removesuffix(".drv"))
    return built


@pytest.fixture(scope="module")
def ca_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Nix, DerivationGraph, dict[str, Any]]:
    require_nix()
    nix = fixture_nix(tmp_path_factory.mktemp("ca"))
    lines, derivations = evaluate(nix, ca=True)
    # The first build: everything, once.
    assert build(nix, ca=True) == {"lib-1.0", "app-1.0", "tool-1.0", "doc-1.0", "app-user-1.0", "bundle-1.0"}
    return nix, graph_of(lines, derivations), derivations


def test_output_consumers_agree_with_input_drvs(ca_store: tuple[Nix, DerivationGraph, dict[str, Any]]) -> None:
    _, graph, derivations = ca_store
    lib = next(p for p, d in derivations.items() if d["env"]["name"] == "lib-1.0")
    # Nix's own answer: for each output of lib, the derivations whose inputDrvs list it.
    expected: dict[str, set[str]] = {}
    for path, d in derivations.items():
        for output in d["inputDrvs"].get(lib, []):
            expected.setdefault(output, set()).add(path)
    # By hand from default.nix, to be sure the fixture says what it means.
    assert {o: {derivations[p]["env"]["name"] for p in ps} for o, ps in expected.items()} == {
        "out": {"app-1.0", "tool-1.0"},
        "dev": {"tool-1.0"},
        "man": {"doc-1.0"},
    }
    report = package_outputs(graph, "lib")
    [entry] = report.derivations
    assert entry.drv == lib
    got = {o.output: set(o.consumer_drvs) for o in entry.outputs}
    assert got == {o: expected.get(o, set()) for o in ("dev", "man", "out")}
    assert entry.consumers == 3
    # The jobs building a consumer of lib.out: app and tool.
    assert sorted(next(o for o in entry.outputs if o.output == "out").jobs) == ["fixture: app", "fixture: tool"]


@pytest.mark.parametrize(("edit", "output"), [("manText", "man"), ("libText", "out"), ("devText", "dev")])
def test_early_cutoff_equals_nix_content_addressed(
    ca_store: tuple[Nix, DerivationGraph, dict[str, Any]], edit: str, output: str
) -> None:
    nix, graph, derivations = ca_store
    built = build(nix, ca=True, **{edit: f"{edit} edited"})
    # The edit changes lib's .drv (its builder script), so lib itself is built, whatever the output.
    assert "lib-1.0" in built
    lib = next(p for p, d in derivations.items() if d["env"]["name"] == "lib-1.0")
    change = resolve_change(graph, drvs=[lib])
    rows, _ = cutoff_rows(graph, change, output)
    assert {graph.names[i] for i in rows.tolist()} == built
    what = only_output(graph, change, output)
    assert what.what_if.derivations_to_build == len(built)
    assert what.today.derivations_to_build == 6


def test_input_addressed_rebuilds_every_consumer(tmp_path: Path) -> None:
    require_nix()
    nix = fixture_nix(tmp_path)
    lines, derivations = evaluate(nix, ca=False)
    graph = graph_of(lines, derivations)
    assert len(build(nix, ca=False)) == 6
    built = build(nix, ca=False, manText="manual v2")
    lib = next(p for p, d in derivations.items() if d["env"]["name"] == "lib-1.0")
    result = estimate(graph, resolve_change(graph, drvs=[lib]))
    assert {graph.names[i] for i in result.rebuilt.tolist()} == built
    # By hand: a change to lib's man page alone rebuilds all six when derivations are input-addressed.
    assert built == {"lib-1.0", "app-1.0", "tool-1.0", "doc-1.0", "app-user-1.0", "bundle-1.0"}


def test_outputs_and_why_cli_json(
    ca_store: tuple[Nix, DerivationGraph, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, derivations = ca_store
    path = tmp_path / "derivations.json"
    path.write_text(json.dumps(derivations))
    lib = next(p for p, d in derivations.items() if d["env"]["name"] == "lib-1.0")
    bundle = next(p for p, d in derivations.items() if d["env"]["name"] == "bundle-1.0")
    assert main(["why", bundle, "--drv", lib, "--all", "--snapshot", str(path), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)["answers"][0]
    # By hand: lib →(man) doc → bundle and lib →(out) app → bundle.
    assert answer["verdict"] == "rebuilt"
    assert answer["chain_count"] == 2
    assert sorted(c["text"] for c in answer["chains"]) == [
        "lib-1.0 →(man) doc-1.0 →(out) bundle-1.0",
        "lib-1.0 →(out) app-1.0 →(out) bundle-1.0",
    ]
