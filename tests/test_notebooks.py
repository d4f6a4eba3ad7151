"""The notebooks in notebooks/: committed without outputs, and executed headless against the shared snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MASTER, RELEASE, REPO, STAGING, require_shared

NOTEBOOKS = REPO / "notebooks"
#: Each notebook and the figures it must save (as <name>.png in $IMPACT_FIGURES_DIR).
FIGURES = {
    "mass-rebuild-landscape.ipynb": (
        "landscape-distribution-linux",
        "landscape-distribution-darwin",
        "landscape-top-linux",
        "landscape-top-darwin",
    ),
    "qemu-vs-kernel.ipynb": ("qemu-vs-kernel-systems", "systemd-man-cutoff"),
    "staging-cycle.ipynb": ("staging-vs-master-jobs", "release-vs-master-jobs", "branch-drift-derivations"),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_notebook_is_listed() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_committed_without_outputs(name: str) -> None:
    import nbformat

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_runs_and_saves_its_figures(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    for variable, path in (("IMPACT_MASTER", MASTER), ("IMPACT_STAGING", STAGING), ("IMPACT_RELEASE", RELEASE)):
        monkeypatch.setenv(variable, str(require_shared(path)))
    figures = tmp_path / "figures"
    monkeypatch.setenv("IMPACT_FIGURES_DIR", str(figures))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    # Raises CellExecutionError, naming the cell, when any cell fails (an assert in the story included).
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    for figure in FIGURES[name]:
        png = figures / f"{figure}.png"
        assert png.exists(), f"{name} did not save {png.name}"
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000, f"{png.name} is empty or not a PNG"
