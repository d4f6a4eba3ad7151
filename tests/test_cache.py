"""The cache of version-2 copies (impact.loaders.cache): one copy per content however many clones use it, the
digest remembered safely, copies no file uses removed, `impact cache info` / `clean`, and the suite's own
temporary cache that leaves the user's untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from impact.cli import main
from impact.loaders import cache, load_snapshot
from impact.loaders.compact import write_compact_v1
from impact.model import Derivation, DerivationGraph, Job
from impact.snapshots import DEFAULT
from tests.conftest import TEST_CACHE, USER_CACHE_ENV


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own."""
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _copies(folder: Path) -> list[Path]:
    return sorted((folder / cache.COPIES).glob("*.impact"))


def _small_graph() -> DerivationGraph:
    """libfoo ← app, each with its own store hash (as version 2 needs), one nixpkgs job each."""

    def drv(name: str, letter: str, out: str, inputs: tuple[str, ...] = ()) -> Derivation:
        return Derivation(
            path=f"/nix/store/{letter * 32}-{name}.drv",
            name=name,
            system="x86_64-linux",
            outputs={"out": f"/nix/store/{out * 32}-{name}"},
            inputs=dict.fromkeys(inputs, ("out",)),
        )

    libfoo = drv("libfoo-1.0", "a", "c")
    app = drv("app-2.0", "b", "d", (libfoo.path,))
    jobs = [
        Job(f"{d.name.split('-')[0]}.x86_64-linux", "x86_64-linux", "nixpkgs", d.path, d.name) for d in (libfoo, app)
    ]
    return DerivationGraph.from_records([libfoo, app], jobs)


def _small_v1(path: Path, label: str = "small") -> Path:
    graph = _small_graph()
    graph.meta["label"] = label
    path.parent.mkdir(parents=True, exist_ok=True)
    write_compact_v1(graph, path)
    return path


def test_the_2019_snapshot_is_cached_once_however_many_clones_use_it(folder: Path, tmp_path: Path) -> None:
    """Three clones' copies of the shipped 2019 file (other paths, other times, one touched after its first
    use): one version-2 copy, named by content; each graph still says which file it was read from."""
    clones = []
    for i, name in enumerate(("clone-a", "clone-b", "clone-c")):
        target = tmp_path / name / "data" / DEFAULT.file_name
        target.parent.mkdir(parents=True)
        shutil.copyfile(DEFAULT.path, target)
        os.utime(target, ns=(10**18 + i, 10**18 + i))
        clones.append(target)
    graphs = [load_snapshot(path) for path in clones]
    os.utime(clones[0], ns=(2 * 10**18, 2 * 10**18))  # touched, not changed: the same copy
    graphs.append(load_snapshot(clones[0]))
    (copy,) = _copies(folder)
    size = clones[0].stat().st_size
    assert copy.name.startswith(f"{size}-") and copy.stat().st_size > 5 * size
    assert [g.origin for g in graphs] == [str(p) for p in (*clones, clones[0])]
    assert all(g.job_count == graphs[0].job_count and g.label == graphs[0].label for g in graphs)
    held = cache.info()
    assert [c.path for c in held.copies] == [copy]
    assert held.copies[0].sources == tuple(sorted(str(p.resolve()) for p in clones))
    assert held.copies[0].label == DEFAULT.label


def test_the_digest_is_remembered_while_the_file_is_the_same(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _small_v1(tmp_path / "small.impact")
    load_snapshot(source)
    monkeypatch.setattr(cache, "_digest", lambda path: pytest.fail("hashed again"))
    load_snapshot(source)  # remembered: not read again
    os.utime(source, ns=(1, 1))  # another modification time: not trusted any more
    with pytest.raises(pytest.fail.Exception, match="hashed again"):
        load_snapshot(source)


@pytest.mark.parametrize(
    "record",
    [
        b"not json",
        b"[]",
        b'{"path": "/x", "key": "../../etc/passwd", "stat": {}}',
        b"{" + b" " * 10_000 + b"}",
    ],
)
def test_a_damaged_record_is_not_trusted(folder: Path, tmp_path: Path, record: bytes) -> None:
    source = _small_v1(tmp_path / "small.impact")
    key = cache.content_key(source, folder)
    (path,) = (folder / cache.SOURCES).glob("*.json")
    path.write_bytes(record)
    assert cache.content_key(source, folder) == key  # read and hashed again, then remembered again
    assert json.loads(path.read_bytes())["key"] == key


def test_a_record_of_another_content_is_not_trusted(folder: Path, tmp_path: Path) -> None:
    """A record whose stat no longer matches (the file was replaced by another content of the same size and
    time, say) is not believed: the new content gets its own copy, and the old copy goes."""
    source = _small_v1(tmp_path / "small.impact", "first")
    load_snapshot(source)
    (first,) = _copies(folder)
    stamp = source.stat()
    _small_v1(source, "other")  # same size, another label; put back the modification time
    os.utime(source, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert load_snapshot(source).label == "other"
    (second,) = _copies(folder)
    assert second != first


def test_copies_no_file_uses_and_the_old_layout_are_removed(folder: Path, tmp_path: Path) -> None:
    a, b = _small_v1(tmp_path / "a.impact", "a"), _small_v1(tmp_path / "b.impact", "b")
    load_snapshot(a)
    legacy = folder / "nixpkgs-master-2019-03-19-7606626-1796613404065166415-b3304fd9.impact"
    legacy.write_bytes(b"an old copy")
    mine = folder / "notes.impact"  # not a name impact gives: left alone
    mine.write_bytes(b"someone's file")
    a.unlink()  # a's copy is used by no file now
    load_snapshot(b)
    assert [load_snapshot(p).label for p in _copies(folder)] == ["b"]
    assert not legacy.exists() and mine.exists()
    assert [r.name for r in (folder / cache.SOURCES).glob("*.json")] != []  # b's record stays


def test_two_processes_making_one_copy_at_once_both_answer(folder: Path, tmp_path: Path) -> None:
    source = _small_v1(tmp_path / "small.impact")
    code = f"from impact.loaders import load_snapshot; print(load_snapshot({str(source)!r}).job_count)"
    env = {**os.environ, "IMPACT_CACHE_DIR": str(folder)}
    runs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert len(set(outputs)) == 1 and int(outputs[0]) == 2
    assert len(_copies(folder)) == 1
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_cache_info_and_clean(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_snapshot(_small_v1(tmp_path / "small.impact", "small snapshot"))
    (folder / "x-1-2-0000abcd.impact").write_bytes(b"old layout")
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert str(folder) in out and "small snapshot" in out and str((tmp_path / "small.impact").resolve()) in out
    assert "1 copy from an earlier impact version" in out
    assert main(["cache", "info", "--json"]) == 0
    held = json.loads(capsys.readouterr().out)
    assert held["folder"] == str(folder) and [c["label"] for c in held["copies"]] == ["small snapshot"]
    assert held["copy_bytes"] == _copies(folder)[0].stat().st_size
    assert main(["cache", "clean"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"removed 2 snapshot copies ({held['copy_bytes'] + 10:,} bytes) from {folder}")
    assert _copies(folder) == [] and not list(folder.glob("*.impact")) and not (folder / cache.SOURCES).exists()
    assert main(["cache", "clean", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["copies_removed"] == 0


def test_the_suite_uses_a_temporary_cache_and_leaves_the_users_alone(tmp_path: Path) -> None:
    """tests/conftest.py points every cache of the session (and of the processes it starts) to a temporary
    folder: not the user's ~/.cache/impact (nor $XDG_CACHE_HOME/impact, nor $IMPACT_CACHE_DIR as the user set
    them). A process started as the suite starts them, with a home of its own, writes its copy there and
    nothing under that home."""
    user = [USER_CACHE_ENV["IMPACT_CACHE_DIR"], USER_CACHE_ENV["XDG_CACHE_HOME"], USER_CACHE_ENV["HOME"]]
    here = cache.cache_dir()
    assert here is not None and here.is_relative_to(TEST_CACHE)
    assert os.environ["XDG_CACHE_HOME"] == str(TEST_CACHE) and cache.nix_store_dir().is_relative_to(TEST_CACHE)
    assert not any(u and here.resolve().is_relative_to(Path(u).resolve()) for u in user if u != tempfile.gettempdir())
    source = _small_v1(tmp_path / "small.impact", "in a subprocess")
    home = tmp_path / "home"
    home.mkdir()
    code = f"from impact.loaders import load_snapshot; print(load_snapshot({str(source)!r}).label)"
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "HOME": str(home)}, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "in a subprocess"
    assert list(home.rglob("*")) == []
    assert any(cache.content_key(source) in p.name for p in _copies(here))
