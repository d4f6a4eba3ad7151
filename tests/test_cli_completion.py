"""Shell completion (`impact --install-completion`): shipped snapshot names where a snapshot or branch is asked
for, package names of the selected snapshot where a package is, fast."""

from __future__ import annotations

import time

import pytest

from impact.cli import main
from impact.snapshots import SHIPPED


def complete(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: str) -> list[str]:
    """What bash completion offers for the last word of `line` (as the script `--show-completion` prints asks)."""
    words = line.split(" ")
    monkeypatch.setenv("_IMPACT_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    assert main([]) == 0
    return capsys.readouterr().out.split()


@pytest.mark.parametrize(
    "line",
    [
        "impact estimate qemu --snapshot ",
        "impact rank -s ",
        "impact diff ",
        "impact diff master-2016-06-24 ",
        "impact pr ",
        "impact branches ",
        "impact branches master-2019-03-19 ",
        "impact snapshot info ",
    ],
)
def test_snapshot_names(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: str) -> None:
    assert complete(monkeypatch, capsys, line) == [s.name for s in SHIPPED]
    assert complete(monkeypatch, capsys, line + "rel") == ["release-19.03-2019-03-21", "release-16.03-2016-06-23"]


def test_base_branch_names(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert complete(monkeypatch, capsys, "impact estimate qemu --base ") == [
        "master",
        "release-19.03",
        "release-16.03",
        "staging",
    ]
    assert complete(monkeypatch, capsys, "impact compare qemu linux --base st") == ["staging"]


@pytest.mark.parametrize(
    ("line", "wanted"),
    [
        ("impact estimate qem", ["qemu", "qemu_kvm", "qemu_test"]),
        ("impact estimate qemu firecr", ["firecracker"]),
        ("impact outputs containe", ["containerd"]),
        ("impact why tests.nat.stand", ["tests.nat.standalone"]),
        ("impact why hello --change zli", ["zlib"]),
        ("impact compare qemu openssl,curlF", ["openssl,curlFull"]),
    ],
)
def test_package_names_of_the_default_snapshot(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: str, wanted: list[str]
) -> None:
    found = complete(monkeypatch, capsys, line)
    assert set(wanted) <= set(found) and all(f.startswith(line.split(" ")[-1]) for f in found)


def test_package_names_of_the_selected_snapshot(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """firecracker came in 2019: the 2016 snapshot, selected by --snapshot or $IMPACT_SNAPSHOT, has none."""
    assert complete(monkeypatch, capsys, "impact estimate --snapshot master-2016-06-24 firecr") == []
    assert complete(monkeypatch, capsys, "impact estimate --snapshot master-2016-06-24 qemu_") == ["qemu_kvm"]
    monkeypatch.setenv("IMPACT_SNAPSHOT", "master-2016-06-24")
    assert complete(monkeypatch, capsys, "impact estimate firecr") == []


def test_completion_is_fast_and_never_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    complete(monkeypatch, capsys, "impact estimate qem")  # the snapshot's copy made, if it was not
    started = time.perf_counter()
    assert "qemu" in complete(monkeypatch, capsys, "impact estimate qem")
    assert time.perf_counter() - started < 2.0
    assert complete(monkeypatch, capsys, "impact estimate --snapshot /nonexistent/x.impact qem") == []
