"""The notebooks in notebooks/: committed without outputs, reading shipped snapshots by name, executed headless,
every figure they save checked for clipped or overlapping text and bars too thin to see.

`test_notebook_runs_and_saves_its_figures` executes each notebook in this environment; `test_fresh_clone`
does what a newcomer does: `git clone`, a new virtual environment, `pip install -e '.[notebooks]'`, and runs
every notebook there, with nothing beside the clone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, USER_CACHE_ENV

NOTEBOOKS = REPO / "notebooks"
#: Each notebook and the figures it must save (as <name>.png in $IMPACT_FIGURES_DIR).
FIGURES = {
    "qemu-vs-kernel.ipynb": ("qemu-vs-kernel-systems", "systemd-man-cutoff", "release-19.03-vs-master-jobs"),
    "mass-rebuild-landscape.ipynb": (
        "landscape-distribution-linux",
        "landscape-distribution-darwin",
        "landscape-top-linux",
        "landscape-top-darwin",
    ),
    "staging-cycle.ipynb": ("staging-vs-master-jobs", "release-vs-master-jobs", "branch-drift-derivations"),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Run before a notebook's own cells: every figure it saves is first checked with `plots.layout_problems`
#: (matplotlib's own text extents: nothing cut at an edge, no labels over each other, no bar too thin to see);
#: a problem fails the cell that saves it. The names of the figures checked are kept to be listed at the end.
CHECK_FIGURES = textwrap.dedent(
    """
    import matplotlib.figure
    from impact.render.plots import layout_problems

    _checked_figures, _savefig = [], matplotlib.figure.Figure.savefig

    def _checked_savefig(self, fname, *args, **kwargs):
        problems = layout_problems(self)
        assert not problems, (str(fname), problems)
        _checked_figures.append(str(fname))
        return _savefig(self, fname, *args, **kwargs)

    matplotlib.figure.Figure.savefig = _checked_savefig
    """
)

#: Executes the notebooks named on the command line (in the interpreter running it, on its `python3` kernel)
#: and checks their figures; shared by both tests so the clone runs exactly what this environment runs.
RUNNER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import nbformat
    from nbclient import NotebookClient

    notebooks, work, figures = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    for name, expected in figures.items():
        nb = nbformat.read(notebooks / name, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(sys.argv[4]))
        nb.cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps(_checked_figures))"))
        # Raises CellExecutionError, naming the cell, when any cell fails (an assert in the story included).
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, (name, errors)
        checked = {Path(f).stem for f in json.loads(nb.cells[-1].outputs[0]["text"])}
        assert checked == set(expected), (name, sorted(checked))
        for figure in expected:
            data = (work / "figures" / f"{figure}.png").read_bytes()
            assert data.startswith(b"\\x89PNG\\r\\n\\x1a\\n") and len(data) > 5_000, f"{name}: {figure}.png"
        print("ran", name, flush=True)
    """
)


def test_every_notebook_is_listed() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_committed_without_outputs_and_reading_shipped_names(name: str) -> None:
    import nbformat

    from impact.snapshots import SHIPPED

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    source = "\n".join(c.source for c in code)
    assert "shared" not in source and "../" not in source, "a notebook must run from a clone alone"
    assert any(f'api.load("{s.name}")' in source for s in SHIPPED)


def _run(python: str, notebooks: Path, work: Path, names: list[str], env: dict[str, str]) -> None:
    import json

    figures = work / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [python, "-c", RUNNER, str(notebooks), str(work), json.dumps({n: FIGURES[n] for n in names}), CHECK_FIGURES],
        cwd=work,
        env={**env, "IMPACT_FIGURES_DIR": str(figures)},
        capture_output=True,
        text=True,
        timeout=2400,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert done.stdout.split() == [w for n in names for w in ("ran", n)]


def _environment() -> dict[str, str]:
    """This process's environment without what would make a notebook read anything but the shipped files; the
    suite's temporary cache is kept (tests/conftest.py), pip's cache stays the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMPACT_", "PYTHON")) or k == "IMPACT_CACHE_DIR"}
    user_cache = USER_CACHE_ENV["XDG_CACHE_HOME"] or os.path.join(os.path.expanduser("~"), ".cache")
    env.setdefault("PIP_CACHE_DIR", os.path.join(user_cache, "pip"))
    return env


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_runs_and_saves_its_figures(name: str, tmp_path: Path) -> None:
    _run(sys.executable, NOTEBOOKS, tmp_path, [name], _environment())


def _share_packages(venv: Path) -> None:
    """Let the new environment see this one's installed packages (not impact: it is installed from the clone).

    A `.pth` line adds this environment's site-packages after the new one's; the `.pth` files there (this
    checkout's editable install of impact among them) are not processed, so `import impact` finds the clone.
    """
    ours = sysconfig.get_paths()["purelib"]
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    (Path(done.stdout.strip()) / "zz-outer-environment.pth").write_text(ours + "\n")


@pytest.mark.clone
def test_fresh_clone(tmp_path: Path) -> None:
    """`git clone`, a new venv, `pip install -e '.[notebooks]'`, then every notebook runs inside the clone.

    The clone is of this checkout's HEAD (commit what you test). To keep it fast the new environment sees
    this one's packages (so pip finds the dependencies installed and downloads at most the build backend);
    IMPACT_CLONE_FRESH=1 makes it a wholly fresh environment that downloads everything.
    """
    clone = tmp_path / "clone"  # not "impact": a folder of that name in the working directory shadows the package
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=300)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    cloned = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert cloned.stdout == head.stdout
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    if not os.environ.get("IMPACT_CLONE_FRESH"):
        _share_packages(venv)
    python = str(venv / "bin" / "python")
    env = _environment()
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", ".[notebooks]"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    where = subprocess.run(
        [python, "-c", "import impact, jupyterlab, nbclient; print(impact.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(clone), where.stdout
    _run(python, clone / "notebooks", tmp_path / "work", sorted(FIGURES), env)
