"""Reading build durations (Hydra JSON, build-times, CSV; Nix build results) and matching them onto master.

The fixtures in tests/fixtures/durations/ are written by hand in the documented shapes, with real drv paths
and job names of the shared master snapshot; `0000…0N` hashes stand for older evaluations not in it.
Every expected number below is the fixture's stoptime − starttime, worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.cost import change_cost, match_durations
from impact.analysis.rebuild import estimate
from impact.errors import InputError
from impact.loaders.durations import load_all, load_durations, parse_durations

FIXTURES = Path(__file__).parent / "fixtures" / "durations"
FILES = sorted(FIXTURES.iterdir())

QEMU_X86_64 = "/nix/store/n92cx3k2h0v8cp7rhgy6p8g6g7djfx8b-qemu-2.6.0.drv"
QEMU_I686 = "/nix/store/qvvgxrbcxdfyqw3rrhbyics7bwknxhgv-qemu-2.6.0.drv"
QEMU_DARWIN = "/nix/store/3g056axgibmva7rm6lnyq9aairkx97qd-qemu-2.6.0.drv"
QEMU_X86_ONLY_I686 = "/nix/store/c3zi2lj3dp2kfz9lkssfcv1vlka7rmfj-qemu-x86-only-2.6.0.drv"
NAT_TEST = "/nix/store/hfjp50nnf9p6jhvf3s0l7lq8xq23ijzm-vm-test-run-natStandalone.drv"
BOXES_318 = "/nix/store/bbp0ax4f979rdp834cqi4bwswh56b1c7-gnome-boxes-3.18.1.drv"
BOXES_320 = "/nix/store/m60jinm55df9mamr86c1n05izr8sxa34-gnome-boxes-3.20.2.drv"
LINUX_X86_64 = "/nix/store/icz2bbjadb4v17gpyq5r9mpmhqyypv5j-linux-4.4.13.drv"
LINUX_I686 = "/nix/store/436psap96fmdwd41xcw2pphmzy2cclwd-linux-4.4.13.drv"


def test_hydra_build_json() -> None:
    f = load_durations(FIXTURES / "hydra-builds.json")
    assert f.format == "hydra-build"
    # 7 builds: 4004 started and stopped at the same second (cached), 4005 has buildstatus 1 (failed).
    assert (len(f.records), f.cached, f.failed) == (5, 1, 1)
    by_id = {r.drv_path: r for r in f.records}
    assert by_id[QEMU_X86_64].seconds == 1466702700 - 1466700000 == 2700
    assert by_id[QEMU_X86_64].job == "qemu.x86_64-linux"
    assert by_id[QEMU_X86_64].system == "x86_64-linux"


def test_hydra_build_times_named_by_file() -> None:
    f = load_durations(FIXTURES / "linux_4_4.x86_64-linux.build-times.json")
    assert f.format == "hydra-build-times"
    # Three points; 5002 has value 0 (cached).
    assert sorted(r.seconds for r in f.records) == [3100, 3300]
    assert f.cached == 1
    assert {r.job for r in f.records} == {"linux_4_4.x86_64-linux"}
    assert {r.system for r in f.records} == {"x86_64-linux"}


def test_hydra_build_times_need_a_job(tmp_path: Path) -> None:
    bare = tmp_path / "times.json"
    bare.write_text('[{"id": 1, "timestamp": 10, "value": 5}]')
    with pytest.raises(InputError, match="does not name its job") as e:
        load_durations(bare)
    assert e.value.tip and "build-times.json" in e.value.tip
    wrapped = parse_durations(
        '{"job": "hello.x86_64-linux", "build-times": [{"id": 1, "timestamp": 10, "value": 5}]}', "w"
    )
    assert [(r.job, r.seconds) for r in wrapped.records] == [("hello.x86_64-linux", 5.0)]


def test_hydra_csv() -> None:
    f = load_durations(FIXTURES / "hydra-builds.csv")
    assert f.format == "hydra-csv"
    # Five rows: hello.x86_64-linux took 0 s (cached), hello.i686-linux has buildstatus 3 (failed).
    assert (len(f.records), f.cached, f.failed) == (3, 1, 1)
    linux = next(r for r in f.records if r.drv_path == LINUX_I686)
    assert (linux.seconds, linux.machine, linux.system) == (1466603000 - 1466600100, "hydra-big-1", "i686-linux")
    # A build step's job names the build it served, not the step's derivation: not used when drvpath is given.
    assert all(r.job is None for r in f.records)


def test_hydra_csv_missing_columns() -> None:
    with pytest.raises(InputError, match="missing columns stoptime, machine"):
        parse_durations("project,jobset,job,timestamp,drvpath,system,buildstatus,starttime\n", "x.csv")


def test_nix_build_result() -> None:
    f = load_durations(FIXTURES / "nix-build-result.json")
    assert f.format == "nix-build-result"
    # hello was substituted (startTime = stopTime = 0): not evidence of a 0-second build.
    assert [(r.drv_path, r.seconds) for r in f.records] == [(NAT_TEST, 420.0)]
    assert f.cached == 1


def test_nix_build_result_statuses() -> None:
    text = """[
      {"drvPath": "/nix/store/00000000000000000000000000000001-a.drv", "outputs": {}},
      {"drvPath": "00000000000000000000000000000002-b.drv", "success": true, "status": "Built", "startTime": 100, "stopTime": 160},
      {"drvPath": "/nix/store/00000000000000000000000000000003-c.drv", "success": true, "status": "Substituted", "startTime": 0, "stopTime": 0},
      {"drvPath": "/nix/store/00000000000000000000000000000004-d.drv", "success": false, "status": "PermanentFailure"}
    ]"""
    f = parse_durations(text, "r.json")
    # a: no times (old Nix); b: built in 60 s (path without /nix/store/, as newest Nix prints it);
    # c: substituted; d: failed.
    assert [(r.drv_path, r.seconds) for r in f.records] == [("/nix/store/00000000000000000000000000000002-b.drv", 60.0)]
    assert (f.untimed, f.cached, f.failed) == (1, 1, 1)


def test_unknown_format() -> None:
    with pytest.raises(InputError, match="unknown durations format"):
        parse_durations('{"foo": 1}', "x.json")
    with pytest.raises(InputError, match="not valid JSON"):
        parse_durations("[{", "x.json")


@pytest.mark.shared
def test_matched_onto_master(master_graph) -> None:
    g = master_graph
    match = match_durations(load_all(FILES))
    # Usable: 5 (Hydra JSON) + 2 (build-times) + 3 (CSV) + 1 (Nix); cached: 1+1+1+1; failed: 1+0+1+0.
    assert (match.records, match.cached, match.failed) == (11, 4, 2)

    def found(drv: str) -> tuple[float, str] | None:
        hit = match.find(g, g.derivation_index(drv))
        return (hit[0].seconds, hit[1]) if hit else None

    # Exact drv path beats the older qemu-2.5.1 build (9000 s) of the same job.
    assert found(QEMU_X86_64) == (2700, "drv")
    # Two builds of job qemu.i686-linux from older evaluations: the newer (timestamp 1466600000) wins.
    assert found(QEMU_I686) == (1466602500 - 1466600100, "job") == (2400, "job")
    # qemu.x86_64-darwin built qemu-2.5.1: the job matches, whatever the version.
    assert found(QEMU_DARWIN) == (3600, "job")
    # A build step of qemu-x86-only-2.6.0 on i686-linux, other drv hash: matched by name and system.
    assert found(QEMU_X86_ONLY_I686) == (1800, "name")
    # gnome-boxes-3.16.0 matches both newer versions by package name and system.
    assert found(BOXES_318) == found(BOXES_320) == (1500, "package")
    assert found(NAT_TEST) == (420, "drv")
    # linux_4_4.x86_64-linux: the exact build (4004) was cached, so the job's build-times decide: the newest
    # non-zero point is 5003 (3100 s; 5002 is newer but 0 s).
    assert found(LINUX_X86_64) == (3100, "job")
    assert found(LINUX_I686) == (2900, "drv")
    # hello.x86_64-linux: cached in CSV and Nix, failed in Hydra JSON: no evidence at all.
    assert found("/nix/store/7ws8s98v20pgrmkz5c4s8a99lhy07qbd-hello-2.10.drv") is None


@pytest.mark.shared
def test_cost_of_qemu_with_records(master_graph) -> None:
    g = master_graph
    result = estimate(g, resolve_change(g, ["qemu"]))
    match = match_durations(load_all(FILES))
    with_data = change_cost(g, result.rebuilt, change="qemu", match=match)
    model = change_cost(g, result.rebuilt, change="qemu")
    # Matched among qemu's 563 rebuilds: qemu on three systems, qemu-x86-only on i686, the nat test and two
    # gnome-boxes (the linux and hello records are about derivations qemu does not rebuild).
    assert with_data.known_derivations == 7
    assert with_data.derivations == result.derivations_to_build == 563
    known = 2700 + 2400 + 3600 + 1800 + 420 + 2 * 1500
    assert with_data.data_only_cpu_hours == pytest.approx(known / 3600)
    # Every one of them is an ordinary one-core build, so the estimate moves by (record − model rule) each:
    # qemu ×3, qemu-x86-only and gnome-boxes ×2 are `median` (300 s) in the model; the nat test `nixos-test` (900 s).
    delta = known - (6 * 300 + 900)
    assert with_data.estimate.cpu_hours - model.estimate.cpu_hours == pytest.approx(delta / 3600)
    assert with_data.model_only.cpu_hours == pytest.approx(model.estimate.cpu_hours)
    assert with_data.known_share_of_time == pytest.approx(known / (with_data.estimate.cpu_hours * 3600))
    assert with_data.sources["drv"] == 2 and with_data.sources["job"] == 2
