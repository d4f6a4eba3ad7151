"""The one place impact runs Nix: instantiate, evaluate, show derivations, list jobs, in any store.

Running Nix is kept apart from parsing what it prints (that is `impact.loaders`): every command goes through
`Nix.run`, which adds the flags Nix needs (`--extra-experimental-features nix-command` for `nix`, `--store`
for an isolated store) and turns a failure into a `NixError` carrying the command and Nix's stderr. The
process runner is a parameter, so tests can pass a fake one and callers can add logging or timeouts.

Works with Nix 2.8 (Debian's nix-bin) and later: `show_derivation` uses `nix derivation show` where it exists
(Nix >= 2.15) and `nix show-derivation` before. `isolated_store` gives a throw-away chroot store
(`local?root=DIR`), which needs no daemon, no network and no root: paths still read `/nix/store/…` (so
hashes equal those of a real store) while files live under `DIR/nix/store`.

Listing jobs without nix-eval-jobs: `eval_attrs` evaluates the shipped expression `impact/nix/eval_attrs.nix` with
`nix-instantiate --eval --strict --json --read-write-mode` and returns lines in nix-eval-jobs' shape (`attr`,
`attrPath`, `name`, `system`, `drvPath`, `outputs`, `meta`, or `error`), writing each .drv to the store as
nix-eval-jobs does. It is meant for small package sets and tests; evaluating all of nixpkgs' release.nix
should use nix-eval-jobs itself, through `Nix.run` as well.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import subprocess
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from impact.errors import NixError

#: Runs one command with extra environment variables and returns the finished process (text mode).
Runner = Callable[[Sequence[str], Mapping[str, str]], "subprocess.CompletedProcess[str]"]

#: The flag every `nix` (new-style) command gets, so it works whatever the user's nix.conf says.
EXPERIMENTAL = ("--extra-experimental-features", "nix-command")
#: How many paths one command line takes at most (keeps well under the kernel's argument limit).
CHUNK = 2000
#: Where store paths live unless the store or `NIX_STORE_DIR` says otherwise.
DEFAULT_STORE_DIR = "/nix/store"
#: A store path's last part as Nix makes it: 32 characters of Nix's base-32 alphabet, a dash, and a name of at most
#: 211 of `A-Za-z0-9+-._?=` that does not start with a dot.
_STORE_BASENAME = re.compile(r"[0-9a-df-np-sv-z]{32}-(?!\.)[A-Za-z0-9+\-._?=]{1,211}")


def store_path_problem(path: object, store_dir: str = DEFAULT_STORE_DIR, *, drv: bool = False) -> str | None:
    """Why `path` is not a store path in `store_dir` (of a .drv file when `drv`), or None when it is one.

    A string an evaluation returns is the evaluated tree's to choose; only one of this exact shape may reach a
    command line or name a file (`--option`, `../x` or `/etc/passwd` never do).
    """
    if not isinstance(path, str):
        return f"a {type(path).__name__}, not a string"
    parent, _, base = path.rpartition("/")
    if parent != store_dir or not _STORE_BASENAME.fullmatch(base):
        return f"not a store path in {store_dir}"
    if drv != base.endswith(".drv"):
        return "not the path of a .drv file" if drv else "the path of a .drv file, not of an output"
    return None


def subprocess_runner(command: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The default runner: run `command` with `env` added to this process's environment, capturing output."""
    try:
        return subprocess.run(list(command), env={**os.environ, **env}, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise NixError(list(command), "", f"{command[0]} not found: is Nix installed and on PATH?") from None


def eval_attrs_expression() -> Path:
    """The shipped Nix expression that lists the jobs of attributes in nix-eval-jobs' shape."""
    return Path(str(resources.files("impact") / "nix" / "eval_attrs.nix"))


@dataclass(frozen=True)
class Nix:
    """How to run Nix: which store (None = the user's default), extra environment, and the process runner."""

    #: A store URI passed as `--store`, e.g. `local?root=/tmp/x`; None uses Nix's default store.
    store: str | None = None
    #: Environment variables added to every command.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Runs the commands; replace it to fake Nix in tests or to log.
    runner: Runner = subprocess_runner
    #: Where the store's files are on disk when it is a chroot store (`ROOT` of `local?root=ROOT`).
    store_root: Path | None = None

    @property
    def store_dir(self) -> str:
        """The store directory the paths of this store read (`/nix/store` unless the store URI's `store=` or
        `NIX_STORE_DIR` says otherwise); a chroot store keeps it, only its files live elsewhere."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.store).query) if self.store else {}
        given = query.get("store", [None])[0] or self.env.get("NIX_STORE_DIR") or os.environ.get("NIX_STORE_DIR")
        return (given or DEFAULT_STORE_DIR).rstrip("/") or DEFAULT_STORE_DIR

    def real_path(self, store_path: str) -> Path | None:
        """Where the file of `store_path` is on this machine, or None when the store is not a local one."""
        if self.store_root is not None:
            return self.store_root / store_path.lstrip("/")
        if self.store in (None, "auto", "daemon", "local") or str(self.store).startswith("unix://"):
            return Path(store_path)
        if str(self.store).startswith("/"):  # a folder given as the store: a chroot store rooted there
            return Path(str(self.store)) / store_path.lstrip("/")
        parts = urllib.parse.urlsplit(str(self.store))
        if parts.scheme in ("local", "") and parts.path in ("", "local"):
            query = urllib.parse.parse_qs(parts.query)
            if "real" in query:
                return Path(query["real"][0]) / Path(store_path).name
            if "root" in query:
                return Path(query["root"][0]) / store_path.lstrip("/")
            return Path(store_path)
        return None

    def store_growth(self, limit: int | None) -> StoreGrowth | None:
        """A watch on how much this store grows, against `limit` bytes; None without a limit or when its files
        are not on this machine."""
        real = self.real_path(f"{self.store_dir}/{'0' * 32}-x")
        return StoreGrowth(real.parent, limit) if limit and real is not None else None

    def command(self, tool: str, *args: str) -> list[str]:
        """The full command line for `tool` (`nix`, `nix-instantiate`, `nix-store`, …) with impact's flags."""
        cmd = [tool]
        if tool == "nix":
            cmd += EXPERIMENTAL
        if self.store is not None:
            cmd += ["--store", self.store]
        return cmd + list(args)

    def run(self, tool: str, *args: str) -> str:
        """Run a Nix command and return its stdout; a non-zero exit raises `NixError` with stderr."""
        cmd = self.command(tool, *args)
        done = self.runner(cmd, dict(self.env))
        if done.returncode != 0:
            raise NixError(cmd, done.stderr or "", f"{tool} failed: {error_summary(done.stderr or '')}")
        return done.stdout

    @functools.cached_property
    def version(self) -> tuple[int, ...]:
        """Nix's version, e.g. `(2, 8, 0)`."""
        out = self.run("nix", "--version")
        m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
        if m is None:
            raise NixError(["nix", "--version"], out, f"cannot read Nix's version from {out.strip()!r}")
        return tuple(int(g) for g in m.groups(default="0"))

    def instantiate(
        self,
        file: str | Path,
        attrs: Iterable[str] = (),
        *,
        args: Mapping[str, str] | None = None,
        argstrs: Mapping[str, str] | None = None,
    ) -> list[str]:
        """`nix-instantiate FILE -A ATTR…`: the .drv paths, one per attribute (all of FILE when none given).

        `args` are Nix expressions (`--arg`), `argstrs` strings (`--argstr`). An attribute naming one output
        (`pkg.dev`) gives its derivation's path.
        """
        cli: list[str] = []
        for a in attrs:
            cli += ["-A", a]
        cli += [*_arg_flags(args, argstrs), "--", _file_argument(file)]
        out = self.run("nix-instantiate", *cli)
        return [line.split("!", 1)[0] for line in out.split()]

    def eval_json(
        self,
        file: str | Path | None = None,
        *,
        expr: str | None = None,
        attr: str | None = None,
        args: Mapping[str, str] | None = None,
        argstrs: Mapping[str, str] | None = None,
        read_write: bool = False,
    ) -> Any:
        """Evaluate a file or an expression strictly and return the value parsed from Nix's JSON.

        With `read_write`, the .drv files of derivations evaluated are written to the store.
        """
        if (file is None) == (expr is None):
            raise ValueError("give exactly one of file and expr")
        cli = ["--eval", "--strict", "--json"]
        if read_write:
            cli.append("--read-write-mode")
        if attr:
            cli += ["-A", attr]
        cli += _arg_flags(args, argstrs)
        cli += ["-E", "--", expr] if expr is not None else ["--", _file_argument(file or "")]
        out = self.run("nix-instantiate", *cli)
        try:
            return json.loads(out)
        except json.JSONDecodeError as e:
            raise NixError(
                self.command("nix-instantiate", *cli), "", f"nix-instantiate printed invalid JSON ({e.msg})"
            ) from None

    def show_derivation(self, paths: Iterable[str], recursive: bool = True) -> dict[str, Any]:
        """`nix show-derivation [-r] PATHS` (`nix derivation show` on Nix >= 2.15), parsed and merged.

        The result is the raw document, in whatever shape this Nix prints; `impact.loaders.show_derivation`
        reads them all. Each path must be a .drv path of this store (`store_path_problem`), and the paths follow
        `--`, so none can be read as an option.
        """
        todo = list(dict.fromkeys(paths))
        for path in todo:
            problem = store_path_problem(path, self.store_dir, drv=True)
            if problem is not None:
                raise NixError(["nix", "show-derivation"], "", f"refusing to show {str(path)[:80]!r}: it is {problem}")
        sub = ["derivation", "show"] if self.version >= (2, 15) else ["show-derivation"]
        if recursive:
            sub.append("-r")
        merged: dict[str, Any] = {}
        for lo in range(0, len(todo), CHUNK):
            doc = json.loads(self.run("nix", *sub, "--", *todo[lo : lo + CHUNK]))
            if isinstance(doc, dict) and isinstance(doc.get("derivations"), dict):
                wrapper = {k: v for k, v in doc.items() if k != "derivations"}
                merged.setdefault("derivations", {}).update(doc["derivations"])
                merged.update(wrapper)
            else:
                merged.update(doc)
        return merged

    def eval_attrs(
        self,
        file: str | Path,
        attrs: Iterable[Sequence[str]] | None = None,
        *,
        args: Mapping[str, Any] | None = None,
        force_recurse: bool = False,
        jobset: str | None = None,
    ) -> list[dict[str, Any]]:
        """The jobs of `file`, as nix-eval-jobs `--meta` prints them, one dict a job; writes their .drv files.

        `file` evaluates to an attribute set, or to a function called with `args` (given as JSON values).
        `attrs` are attribute paths to list (each a derivation or a set to walk); None walks the whole
        file. Sets are walked when they say `recurseForDerivations = true`, or always with `force_recurse`
        (as Hydra does for a release.nix). A job that throws or fails an assert gives `{"attr", "attrPath",
        "error"}`, as in nix-eval-jobs. With `jobset`, every line carries `"jobset": jobset`.
        """
        argstrs = {
            "file": str(Path(file).resolve()),
            "attrsJson": json.dumps([list(a) for a in attrs] if attrs is not None else None),
            "argsJson": json.dumps(dict(args or {})),
        }
        lines = self.eval_json(
            eval_attrs_expression(),
            args={"forceRecurse": "true" if force_recurse else "false"},
            argstrs=argstrs,
            read_write=True,
        )
        if not isinstance(lines, list):
            raise NixError(
                ["nix-instantiate", str(eval_attrs_expression())], "", "eval_attrs.nix did not return a list"
            )
        if jobset is not None:
            for line in lines:
                line["jobset"] = jobset
        return lines

    def parse_files(self, files: Sequence[str | Path], batch: int = 2000) -> list[tuple[str | None, str | None]]:
        """`nix-instantiate --parse FILE…`: each file's expression as Nix prints it (one line a file), or Nix's
        error for a file it cannot parse, in the order given.

        Nix stops at the first file it cannot parse, having printed the ones before it: the rest are parsed
        again after it. The paths must be absolute (so none reads as an option).
        """
        out: list[tuple[str | None, str | None]] = []
        todo = [str(f) for f in files]
        for f in todo:
            if not f.startswith("/"):
                raise ValueError(f"{f!r}: give absolute paths to parse")
        i = 0
        while i < len(todo):
            chunk = todo[i : i + batch]
            cmd = self.command("nix-instantiate", "--parse", *chunk)
            done = self.runner(cmd, dict(self.env))
            lines = done.stdout.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if done.returncode == 0 and len(lines) == len(chunk):
                out += [(line, None) for line in lines]
                i += len(chunk)
                continue
            if len(lines) >= len(chunk) or f"{chunk[len(lines)]}:" not in (done.stderr or ""):
                raise NixError(
                    cmd, done.stderr or "", f"nix-instantiate --parse failed: {error_summary(done.stderr or '')}"
                )
            out += [(line, None) for line in lines]
            out.append((None, error_summary(done.stderr or "")))
            i += len(lines) + 1
        return out

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """Hold the private store's lock shared while an evaluation needs its .drv files (see `collect_garbage`)."""
        if self.store_root is None:
            yield
            return
        import fcntl

        self.store_root.mkdir(parents=True, exist_ok=True)
        with open(self.store_root / GC_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            yield


#: The lock file in a private store: evaluations hold it shared, garbage collection exclusive.
GC_LOCK = "impact-gc.lock"


def collect_garbage(nix: Nix) -> int | None:
    """Delete every path of a private (chroot) store that no evaluation is using; the bytes freed.

    impact's private store holds only what evaluations write (.drv files, copies of evaluated trees), all
    unrooted: once an evaluation has written its snapshot, none of it is needed. Evaluations hold the store's
    lock shared (`Nix.evaluating`); collection takes it exclusively without waiting and returns None when an
    evaluation is running (or the store is not a private one), so it never pulls files from under one.
    """
    if nix.store_root is None:
        return None
    import fcntl

    lock_path = nix.store_root / GC_LOCK
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        before = store_size(nix.store_root)
        nix.run("nix-store", "--gc")
        return before - store_size(nix.store_root)


def store_size(root: Path) -> int:
    """Bytes of the files of a chroot store under `root` (its `nix/store`; not counting the database)."""
    total = 0
    for dirpath, _, files in os.walk(root / "nix" / "store"):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def error_summary(stderr: str) -> str:
    """Nix's error in one line: the first `error:` line (without the prefix), else the last line printed."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error:"):
            return line.removeprefix("error:").strip()
    return lines[-1] if lines else "no output"


def jobs_jsonl(lines: Iterable[Mapping[str, Any]]) -> str:
    """nix-eval-jobs lines as text: one compact JSON object a line."""
    return "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)


def _file_argument(file: str | Path) -> str:
    """`file` as nix-instantiate must get it: absolute, so it never starts with `-`. Nix 2.8's legacy commands
    stop reading common options (`--option`) at `--`, but still read their own (`--eval`, `-E`, `-A`,
    `--version`) after it, and refuse any other word starting with `-`; only the `nix` command reads
    everything after `--` as paths."""
    return os.path.abspath(file)


def _arg_flags(args: Mapping[str, str] | None, argstrs: Mapping[str, str] | None) -> list[str]:
    out: list[str] = []
    for k, v in (args or {}).items():
        out += ["--arg", k, v]
    for k, v in (argstrs or {}).items():
        out += ["--argstr", k, v]
    return out


def isolated_nix(root: str | Path, runner: Runner = subprocess_runner) -> Nix:
    """A `Nix` on a chroot store under `root` (created as needed): offline, no daemon, as root or as a user.

    Paths read `/nix/store/…` as in a real store; the files are under `root/nix/store`. Nix's caches go to
    `root/cache`, so nothing outside `root` is written.
    """
    root = Path(root).resolve()
    (root / "cache").mkdir(parents=True, exist_ok=True)
    return Nix(
        store=f"local?root={root}",
        env={"XDG_CACHE_HOME": str(root / "cache"), "NIX_REMOTE": ""},
        runner=runner,
        store_root=root,
    )


def private_nix(runner: Runner = subprocess_runner) -> Nix:
    """impact's own chroot store (`impact.loaders.cache.nix_store_dir`), where evaluations write their .drv files
    without touching the user's store; collected after each evaluation."""
    from impact.loaders.cache import nix_store_dir

    return isolated_nix(nix_store_dir(), runner)


@contextlib.contextmanager
def temporary_store(runner: Runner = subprocess_runner) -> Iterator[Nix]:
    """An `isolated_nix` on a fresh temporary folder, removed afterwards (store files are made read-only)."""
    with tempfile.TemporaryDirectory(prefix="impact-nix-") as tmp:
        try:
            yield isolated_nix(tmp, runner)
        finally:
            for dirpath, dirnames, _ in os.walk(tmp):
                for d in dirnames:
                    with contextlib.suppress(OSError):
                        os.chmod(os.path.join(dirpath, d), 0o755)


# -- evaluating a nixpkgs checkout under limits (impact eval) ------------------------------------------------

#: A system name as Nix spells it; anything else is refused before it reaches a Nix expression.
_SYSTEM = re.compile(r"^[A-Za-z0-9_.+-]+$")
#: The line the shipped jobs.nix traces once per job, counted for the progress bar.
JOB_TRACE = "trace: impact-job"


@dataclass(frozen=True)
class Limits:
    """Limits on an evaluation: wall-clock seconds for all of it, address space of each Nix process, and how much
    it may add to the store (None: unlimited)."""

    #: Seconds the whole evaluation may take (every Nix process, retry and explaining run together).
    timeout: float | None = 3600.0
    #: Bytes of address space (RLIMIT_AS) each Nix process may map.
    memory: int | None = 8 << 30
    #: Bytes the evaluation may add to the store (`builtins.toFile`, copied trees, .drv files).
    store: int | None = 16 << 30
    #: When the time runs out (`time.monotonic()`); set by `started`, None before.
    deadline: float | None = None

    def started(self) -> Limits:
        """These limits with the clock running (unchanged when it already runs): every process from now on
        shares one deadline."""
        import time

        if self.timeout is None or self.deadline is not None:
            return self
        return dataclasses.replace(self, deadline=time.monotonic() + self.timeout)

    def left(self) -> float | None:
        """Seconds left before the deadline (the whole timeout when the clock is not running), None: no limit."""
        import time

        if self.timeout is None:
            return None
        if self.deadline is None:
            return self.timeout
        return self.deadline - time.monotonic()


#: Environment variables a Nix process evaluating a tree is given (besides `NIX_*` ones): nothing else of impact's
#: environment (tokens, secrets) is in reach of the evaluated code, whatever Nix lets it read.
EVAL_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "XDG_CACHE_HOME")


def evaluation_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` a Nix process that evaluates a tree gets: `EVAL_ENVIRONMENT` and Nix's own settings
    (`NIX_*`), without `NIX_PATH` (only the checkout is on the search path)."""
    return {k: v for k, v in environ.items() if k in EVAL_ENVIRONMENT or (k.startswith("NIX_") and k != "NIX_PATH")}


class StoreGrowth:
    """Watches how many bytes the store directory `real_dir` (where its files are on this machine) gained since
    this object was made; shared by every Nix process of one evaluation.

    Each poll lists the directory and measures the entries that are new; an entry Nix has finished (it sets a
    path's modification time to 1) is measured once, one still being written again on the next poll.
    """

    def __init__(self, real_dir: Path, limit: int) -> None:
        import threading

        self.real_dir, self.limit = real_dir, limit
        self._lock = threading.Lock()
        self._done: dict[str, int] = {}
        self._before = set(self._names())

    def _names(self) -> list[str]:
        try:
            return [e.name for e in os.scandir(self.real_dir)]
        except OSError:
            return []

    def _size(self, path: str) -> tuple[int, bool]:
        """Bytes under `path` (not following links) and whether Nix has finished writing it."""
        try:
            st = os.lstat(path)
        except OSError:
            return 0, False
        total = st.st_size
        if os.path.isdir(path) and not os.path.islink(path):
            for dirpath, dirnames, files in os.walk(path):
                for f in [*files, *dirnames]:
                    with contextlib.suppress(OSError):
                        total += os.lstat(os.path.join(dirpath, f)).st_size
        return total, st.st_mtime == 1

    def grown(self) -> int:
        """Bytes the store gained so far."""
        with self._lock:
            total = 0
            for name in self._names():
                if name in self._before:
                    continue
                if name in self._done:
                    total += self._done[name]
                    continue
                size, finished = self._size(os.path.join(self.real_dir, name))
                if finished:
                    self._done[name] = size
                total += size
            return total

    def exceeded(self) -> bool:
        """True when the store gained more than the limit."""
        return self.grown() > self.limit


def jobs_expression() -> str:
    """The text of the shipped `impact/nix/jobs.nix`, which walks release.nix files under tryEval."""
    return (resources.files("impact") / "nix" / "jobs.nix").read_text(encoding="utf-8")


def limited_runner(
    limits: Limits,
    on_stderr_line: Callable[[str], bool] | None = None,
    on_stdout_line: Callable[[str], None] | None = None,
    on_finish: Callable[[int], None] | None = None,
    *,
    store: StoreGrowth | None = None,
    clean_environment: bool = False,
) -> Runner:
    """A runner that applies `limits` (RLIMIT_AS in the child, a timer killing its process group at the deadline,
    and `store`'s growth polled every second against its limit).

    Each stderr line is given to `on_stderr_line` as it arrives; lines it returns True for are consumed
    (progress traces), the rest are kept for the error message. Each stdout line is shown to
    `on_stdout_line` as it arrives (nix-eval-jobs prints one job a line). `on_finish` gets the process's peak
    resident memory in bytes (from wait4). Exceeding a limit raises `NixError` naming it (its `limit` set); a
    crash (SIGSEGV, as Nix 2.8's garbage collector sometimes does on large trees) raises a `NixError` whose
    `crashed` is True. With `clean_environment` the process gets only `evaluation_environment` of this one's.
    """
    import resource
    import signal
    import threading

    def preexec() -> None:  # runs in the child, before exec
        if limits.memory:
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))

    def over_time(command: Sequence[str], stderr: str) -> NixError:
        e = NixError(list(command), stderr, f"{command[0]} stopped: it ran over the time limit of {limits.timeout:g} s")
        e.tip = "look for an endless loop in the evaluated tree, or raise --timeout"
        e.limit = True
        return e

    def run(command: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        left = limits.left()
        if left is not None and left <= 0:
            raise over_time(command, "")
        base = evaluation_environment(os.environ) if clean_environment else os.environ
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out:
            try:
                proc = subprocess.Popen(
                    list(command),
                    env={**base, **env},
                    stdout=subprocess.PIPE if on_stdout_line else out,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    preexec_fn=preexec,
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise NixError(list(command), "", f"{command[0]} not found: is Nix installed and on PATH?") from None
            timed_out, overgrown, ended = threading.Event(), threading.Event(), threading.Event()
            reader = None
            if on_stdout_line is not None:
                pipe = proc.stdout
                assert pipe is not None

                def read_stdout() -> None:
                    with pipe:
                        for line in pipe:
                            out.write(line)
                            on_stdout_line(line)

                reader = threading.Thread(target=read_stdout, daemon=True)
                reader.start()

            def kill() -> None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

            def out_of_time() -> None:
                timed_out.set()
                kill()

            def watch_store() -> None:
                assert store is not None
                while not ended.wait(1.0):
                    if store.exceeded():
                        overgrown.set()
                        kill()
                        return

            timer = threading.Timer(left, out_of_time) if left is not None else None
            if timer:
                timer.daemon = True
                timer.start()
            watcher = threading.Thread(target=watch_store, daemon=True) if store is not None else None
            if watcher:
                watcher.start()
            kept: list[str] = []
            assert proc.stderr is not None
            with proc.stderr:
                for line in proc.stderr:
                    if on_stderr_line is None or not on_stderr_line(line):
                        kept.append(line)
            _, status, usage = os.wait4(proc.pid, 0)
            ended.set()
            code = proc.returncode = os.waitstatus_to_exitcode(status)
            if on_finish is not None:
                on_finish(usage.ru_maxrss * 1024)  # Linux reports KiB
            if reader is not None:
                reader.join()
            if timer:
                timer.cancel()
            if watcher:
                watcher.join()
            stderr = "".join(kept)
            if timed_out.is_set():
                raise over_time(command, stderr)
            if overgrown.is_set() or (store is not None and code != 0 and store.exceeded()):
                assert store is not None
                e = NixError(
                    list(command),
                    stderr,
                    f"{command[0]} stopped: the evaluation wrote over the store limit of {store.limit >> 20:,} MiB",
                )
                e.tip = (
                    "look for builtins.toFile or paths copied without end in the evaluated tree, or raise --store-limit"
                )
                e.limit = True
                raise e
            if limits.memory and code != 0 and _out_of_memory(stderr, code):
                e = NixError(
                    list(command),
                    stderr,
                    f"{command[0]} stopped: it ran over the memory limit of {limits.memory >> 20:,} MiB",
                )
                e.tip = "look for an expression that grows without end in the evaluated tree, or raise --memory"
                e.limit = True
                raise e
            if code == -signal.SIGSEGV:
                e = NixError(list(command), stderr, f"{command[0]} crashed (segmentation fault)")
                e.tip = "Nix 2.8's garbage collector crashes now and then on large trees: run the command again"
                e.crashed = True
                raise e
            out.seek(0)
            return subprocess.CompletedProcess(list(command), code, out.read(), stderr)

    return run


def _out_of_memory(stderr: str, code: int) -> bool:
    import signal

    text = stderr.lower()
    return "out of memory" in text or "bad_alloc" in text or "cannot allocate" in text or code == -signal.SIGKILL


#: How often one slice is evaluated again, as it was, after Nix crashed (Nix 2.8's garbage collector, built against
#: a libgc without Nix's coroutine patch as Debian's is, segfaults now and then on the NixOS jobset).
CRASH_RETRIES = 1
#: A slice that crashes again is evaluated in halves (another schedule of allocations), down to this many slices.
MAX_CHUNKS = 64
#: At most this many jobs that stop Nix with an error tryEval cannot catch are set aside in one slice.
MAX_UNCAUGHT = 100
#: The message of a job that failed under tryEval, until `explain_error` reads Nix's own (jobs.nix says the same).
CAUGHT = "evaluation failed (throw or assert)"
_LOCATION = re.compile(r"^\s*at (.+):(\d+):(\d+):\s*$")


#: An absolute path in running text (not a URL's `//host/…`, not the `/` inside a word or a relative path).
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/\-])/[^\s'\"‘’`(){}\[\],;:]+")


def without_host_paths(text: str, root: str | Path | None = None, store_dir: str = DEFAULT_STORE_DIR) -> str:
    """`text` (Nix's words about an evaluated tree) with no path of this machine in it: paths inside `root` made
    relative to it, store paths kept, every other absolute path written `/…`.

    What an evaluation prints reaches a report others read; Nix names the paths it resolved (a link's target,
    `~` expanded to the home folder, the private store's place), which the tree's author must not learn.
    """
    if root is not None:
        text = text.replace(f"{root}/", "").replace(str(root), ".")
    kept = (store_dir, store_dir + "/")
    return _ABSOLUTE_PATH.sub(lambda m: m.group(0) if m.group(0).startswith(kept) else "/…", text)


def error_message(stderr: str, root: str | Path | None = None) -> str:
    """Nix's error as Hydra records it: the message and the innermost location `file:line:col`.

    The message is the `error:` paragraph in one line; the location is the first `at FILE:LINE:COL:` Nix printed
    after it (with `--show-trace`, the innermost frame), FILE relative to `root` when inside it. No other path of
    this machine is kept (`without_host_paths`).
    """
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
    if start is None:
        return without_host_paths(error_summary(stderr), root)
    text = [lines[start].removeprefix("error:").strip()]
    for line in lines[start + 1 :]:
        if not line.strip() or line.lstrip().startswith(("…", "at ")):
            break
        text.append(line.strip())
    # nixpkgs' own messages name files too (`Package ‘x’ in ‘/…/default.nix:12’ …`)
    message = without_host_paths(" ".join(t for t in text if t), root)[:1000]
    for line in lines[start + 1 :]:
        m = _LOCATION.match(line)
        if m:
            file = without_host_paths(m.group(1), root)
            return f"{message} at {file}:{m.group(2)}:{m.group(3)}"
    return message


@dataclass
class EvalProcess:
    """One Nix process of an evaluation: what it evaluated, how long it ran, its peak resident memory."""

    #: Which slice (`K/N`) or job it evaluated.
    label: str
    #: Wall-clock seconds.
    seconds: float = 0.0
    #: Peak resident set size in bytes (wait4's ru_maxrss).
    peak_rss: int = 0


def _checked_systems(systems: Sequence[str], nixos_systems: Sequence[str] | None) -> None:
    for s in [*systems, *(nixos_systems or ())]:
        if not _SYSTEM.match(s):
            raise NixError([], "", f"{s!r} is not a system name (e.g. x86_64-linux)")


def eval_release(
    nix: Nix,
    checkout: str | Path,
    systems: Sequence[str],
    *,
    nixos: bool = False,
    nixos_systems: Sequence[str] | None = None,
    limits: Limits = Limits(),
    on_job: Callable[[int], None] | None = None,
    chunks: int = 1,
    chunk: int = 0,
    skip: Sequence[str] = (),
    explain: int = 25,
    processes: list[EvalProcess] | None = None,
    only: Sequence[Mapping[str, Any]] | None = None,
    growth: StoreGrowth | None = None,
    needing: Callable[[Mapping[str, Any], str], Sequence[Mapping[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """The Hydra jobs of a nixpkgs checkout, as nix-eval-jobs lines with `jobset`; writes each .drv to the store.

    Evaluates `pkgs/top-level/release.nix` (and `nixos/release.nix` with `nixos`) through the shipped
    `jobs.nix`, in restricted mode with only the checkout on the search path and without
    import-from-derivation, under `limits`. `on_job` is called with the running count of jobs evaluated.
    Only slice `chunk` of `chunks` is evaluated (see jobs.nix); top-level names in `skip` are left out.

    Errors are recorded as Hydra records them: a job that fails is a line with `error` and the rest is
    evaluated. A throw or assert is caught by tryEval; any other error (a forbidden path, an abort, a missing
    attribute) stops Nix, and the job it stopped at is set aside and the slice evaluated again. The message of
    the first `explain` caught errors is read by evaluating each job alone (one more Nix process each). Each
    process run is appended to `processes`. Every process keeps to `limits` (one deadline for them all, started
    here unless the caller started it) and, when given, to the store's `growth` limit. With `only` (a list of
    `{jobset, path}`), just the jobs under those attribute paths are evaluated (a path that names nothing gives
    no job). `needing`, given a job that stopped Nix and Nix's messages, names the jobs that need what failed
    (their derivations take it): they are set aside with it, as failing for its sake (`"inferred": true`),
    instead of each stopping Nix in turn.
    """
    if not 0 <= chunk < chunks:
        raise NixError([], "", f"chunk {chunk} is not one of 0…{chunks - 1}")
    root = Path(checkout).resolve()
    limits = limits.started()
    args = {**release_args(systems, nixos, nixos_systems, skip), "chunks": chunks, "chunk": chunk}
    if only is not None:
        args["only"] = [{"jobset": str(o["jobset"]), "path": [str(n) for n in o["path"]]} for o in only]
    runs = processes if processes is not None else []
    jobsets = {str(o["jobset"]) for o in only} if only is not None else {"nixpkgs", *(["nixos"] if nixos else [])}
    lines = _SliceRun(nix, root, args, limits, on_job, runs, growth, needing, jobsets).evaluate(chunks, chunk, [])
    for line in lines:
        if line.get("error") == CAUGHT and explain > 0:
            explain -= 1
            line["error"] = explain_error(nix, root, args, where(line), limits, runs, growth)
    return lines


@dataclass(frozen=True)
class _SliceRun:
    """What every slice of one `eval_release` shares (see there)."""

    nix: Nix
    root: Path
    args: Mapping[str, Any]
    limits: Limits
    on_job: Callable[[int], None] | None
    runs: list[EvalProcess]
    growth: StoreGrowth | None
    needing: Callable[[Mapping[str, Any], str], Sequence[Mapping[str, Any]]] | None
    jobsets: set[str]

    def evaluate(self, chunks: int, chunk: int, set_aside: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Slice `chunk` of `chunks`, the jobs in `set_aside` already set aside (and returned as they are). A Nix
        crash is retried once as it was, then the slice is evaluated in its two halves (slices `chunk` and
        `chunk + chunks` of `2 * chunks`: the same jobs), down to `MAX_CHUNKS`."""
        nix, root, needing = self.nix, self.root, self.needing
        label = f"chunk {chunk + 1}/{chunks}" if chunks > 1 else "all jobs"
        uncaught = list(set_aside)
        crashes = 0
        while True:
            try:
                again = f" again, {len(uncaught)} set aside" if uncaught else " again" if crashes else ""
                lines = _run_jobs(
                    nix,
                    root,
                    {**self.args, "chunks": chunks, "chunk": chunk, "skipPaths": [where(x) for x in uncaught]},
                    self.limits,
                    self.on_job,
                    self.runs,
                    label + again,
                    self.growth,
                )
                break
            except _Stopped as stop:
                if _infrastructure(stop.error.stderr):
                    stop.error.crashed = True  # the machine failed, not the job: never pinned on a job
                if stop.error.crashed and crashes < CRASH_RETRIES:
                    crashes += 1
                    continue
                if stop.error.crashed and chunks * 2 <= MAX_CHUNKS:
                    halves = [chunk, chunk + chunks]
                    found = [self.evaluate(chunks * 2, k, uncaught) for k in halves]
                    kept = [where(x) for x in uncaught]  # each half returns them too
                    return [x for half in found for x in half if where(x) not in kept] + uncaught
                if stop.error.crashed or stop.at is None or stop.at in [where(x) for x in uncaught]:
                    raise _refusal(stop.error, root) from None
                if sum(1 for x in uncaught if not x.get("inferred")) >= MAX_UNCAUGHT:
                    stop.error.args = (f"{stop.error} (and {MAX_UNCAUGHT} jobs before it stopped Nix)",)
                    raise stop.error from None
                path = stop.at["path"]
                message = error_message(stop.error.stderr, root)
                uncaught.append(
                    {"attr": ".".join(path), "attrPath": path, "jobset": stop.at["jobset"], "error": message}
                )
                aside = [where(x) for x in uncaught]
                for place in needing(stop.at, stop.error.stderr) if needing is not None else ():
                    if place not in aside and place["jobset"] in self.jobsets:
                        aside.append(dict(place))
                        uncaught.append(
                            {
                                "attr": ".".join(place["path"]),
                                "attrPath": list(place["path"]),
                                "jobset": place["jobset"],
                                "error": f"needs {'.'.join(path)}, which does not evaluate: {message}",
                                "inferred": True,
                            }
                        )
        return lines + uncaught


def release_args(
    systems: Sequence[str], nixos: bool, nixos_systems: Sequence[str] | None, skip: Sequence[str]
) -> dict[str, Any]:
    """The arguments jobs.nix takes for these jobsets (chunks aside)."""
    _checked_systems(systems, nixos_systems)
    return {
        "systems": list(systems),
        "nixos": nixos,
        "nixosSystems": list(nixos_systems or systems[:1]),
        "chunks": 1,
        "chunk": 0,
        "skip": list(skip),
    }


def explain_error(
    nix: Nix,
    root: Path,
    args: Mapping[str, Any],
    where: Mapping[str, Any],
    limits: Limits,
    processes: list[EvalProcess],
    growth: StoreGrowth | None = None,
) -> str:
    """Nix's own message for one job that failed under tryEval: evaluate it alone, without tryEval."""
    try:
        _run_jobs(
            nix,
            root,
            {**args, "chunks": 1, "chunk": 0, "only": [where], "catch": False},
            limits,
            None,
            processes,
            f"job {where['jobset']}:{'.'.join(where['path'])}",
            growth,
        )
    except _Stopped as stop:
        return error_message(stop.error.stderr, root)
    return CAUGHT


#: Words of Nix errors that come from the machine or the store, not from the evaluated code.
_INFRASTRUCTURE = ("sqlite", "no space left", "too many open files", "cannot allocate", "resource temporarily")


def _infrastructure(stderr: str) -> bool:
    first = next((line.lower() for line in stderr.splitlines() if line.startswith("error:")), "")
    return any(word in first for word in _INFRASTRUCTURE)


class _Stopped(Exception):
    """Nix stopped with an error; `at` is the job or set it was evaluating, from the last trace."""

    def __init__(self, error: NixError, at: dict[str, Any] | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.at = at


def where(line: Mapping[str, Any]) -> dict[str, Any]:
    """A job line's place as jobs.nix takes it: `{jobset, path}`."""
    return {"jobset": line.get("jobset", "nixpkgs"), "path": list(line["attrPath"])}


def _refusal(error: NixError, root: Path) -> NixError:
    if "restricted mode" in str(error) or "import from derivation" in str(error):
        error.args = (f"evaluation of {root} refused: {without_host_paths(error_summary(error.stderr), root)}",)
        error.tip = (
            "the evaluated tree may read only itself: no paths outside it, no network, no import-from-derivation"
        )
    return error


def _run_jobs(
    nix: Nix,
    root: Path,
    args: Mapping[str, Any],
    limits: Limits,
    on_job: Callable[[int], None] | None,
    processes: list[EvalProcess],
    label: str,
    growth: StoreGrowth | None = None,
) -> list[dict[str, Any]]:
    """One nix-instantiate of jobs.nix with `args` (given as JSON, never spliced into Nix code), in an environment
    holding nothing but what Nix needs."""
    import time

    count = 0
    last: list[str] = []
    process = EvalProcess(label)

    def on_line(line: str) -> bool:
        nonlocal count
        if line.startswith("trace: impact-"):
            if line.startswith(JOB_TRACE):
                count += 1
                if on_job is not None:
                    on_job(count)
            last[:] = [line]
            return True
        return False

    def on_finish(peak: int) -> None:
        process.peak_rss = peak

    limited = Nix(
        store=nix.store,
        env={**nix.env, "NIX_PATH": ""},
        runner=limited_runner(limits, on_line, on_finish=on_finish, store=growth, clean_environment=True),
        store_root=nix.store_root,
    )
    # The arguments go in a file on the search path (`<impact-args/args.json>`, readable under restrict-eval):
    # the jobs named with `only` can be many more than a command line holds.
    expr = (
        f"({jobs_expression()}) "
        "(builtins.fromJSON (builtins.readFile <impact-args/args.json>) // { nixpkgs = <nixpkgs>; })"
    )
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="impact-args-") as folder:
            Path(folder, "args.json").write_text(json.dumps(dict(args)), encoding="utf-8")
            out = limited.run(
                "nix-instantiate",
                "--eval",
                "--strict",
                "--json",
                "--read-write-mode",
                "--show-trace",
                "--option",
                "restrict-eval",
                "true",
                "--option",
                "allow-import-from-derivation",
                "false",
                "-I",
                f"nixpkgs={root}",
                "-I",
                f"impact-args={folder}",
                "-E",
                "--",
                expr,
            )
    except NixError as e:
        if e.limit:
            raise
        raise _Stopped(e, _traced_place(last[0]) if last else None) from None
    finally:
        process.seconds = time.monotonic() - started
        processes.append(process)
    try:
        lines = json.loads(out)
    except json.JSONDecodeError as e:
        raise NixError(["nix-instantiate"], "", f"jobs.nix printed invalid JSON ({e.msg})") from None
    if not isinstance(lines, list):
        raise NixError(["nix-instantiate"], "", "jobs.nix did not return a list")
    return lines


def _traced_place(line: str) -> dict[str, Any] | None:
    try:
        place = json.loads(line.split(" ", 2)[2])
    except (IndexError, json.JSONDecodeError):
        return None
    if (
        isinstance(place, dict)
        and isinstance(place.get("jobset"), str)
        and isinstance(place.get("path"), list)
        and place["path"]
        and all(isinstance(n, str) for n in place["path"])
    ):
        return {"jobset": place["jobset"], "path": place["path"]}
    return None


def _release_call(file: str, systems: Sequence[str]) -> str:
    """A Nix expression calling `<nixpkgs/FILE>` with the arguments it declares (as jobs.nix does)."""
    listed = "[ " + " ".join(f'"{x}"' for x in systems) + " ]"
    return (
        f"let f = import <nixpkgs/{file}>; args = {{ supportedSystems = {listed}; "
        'nixpkgs = { outPath = <nixpkgs>; revCount = 1; shortRev = "0000000"; }; }; '
        "in if builtins.isFunction f then f (builtins.intersectAttrs (builtins.functionArgs f) args) else f"
    )


def eval_release_with_eval_jobs(
    nix: Nix,
    checkout: str | Path,
    systems: Sequence[str],
    *,
    nixos: bool = False,
    nixos_systems: Sequence[str] | None = None,
    limits: Limits = Limits(),
    on_job: Callable[[int], None] | None = None,
    workers: int = 1,
    tool: str = "nix-eval-jobs",
    growth: StoreGrowth | None = None,
) -> list[dict[str, Any]]:
    """As `eval_release`, through nix-eval-jobs: the same restrictions and limits, workers in parallel.

    nix-eval-jobs prints one job a line as it goes (counted for `on_job`) and restarts a worker that grows
    past `--max-memory-size` (set from `limits.memory`; RLIMIT_AS still bounds every process). The store is
    passed as the `store` setting, which every Nix tool reads.
    """
    _checked_systems(systems, nixos_systems)
    root = Path(checkout).resolve()
    count = 0

    def on_line(line: str) -> None:
        nonlocal count
        if line.strip():
            count += 1
            if on_job is not None:
                on_job(count)

    runner = limited_runner(limits.started(), on_stdout_line=on_line, store=growth, clean_environment=True)
    plain = Nix(store=None, env={**nix.env, "NIX_PATH": ""}, runner=runner)
    sets = [("nixpkgs", "pkgs/top-level/release.nix", systems)]
    if nixos:
        sets.append(("nixos", "nixos/release.nix", nixos_systems or systems[:1]))
    lines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="impact-gcroots-") as roots:
        for jobset, file, for_systems in sets:
            args = [
                "--meta",
                "--force-recurse",
                "--workers",
                str(workers),
                "--gc-roots-dir",
                roots,
                "--option",
                "restrict-eval",
                "true",
                "--option",
                "allow-import-from-derivation",
                "false",
            ]
            if nix.store:
                args += ["--option", "store", nix.store]
            if limits.memory:
                args += ["--max-memory-size", str(max(limits.memory >> 20, 256))]
            args += ["-I", f"nixpkgs={root}", "--expr", _release_call(file, for_systems)]
            try:
                out = plain.run(tool, *args)
            except NixError as e:
                raise _refusal(e, root) from None
            for number, text in enumerate(out.splitlines(), 1):
                if not text.strip():
                    continue
                try:
                    line = json.loads(text)
                except json.JSONDecodeError as e:
                    raise NixError([tool], "", f"{tool} printed invalid JSON on line {number} ({e.msg})") from None
                line["jobset"] = jobset
                lines.append(line)
    return lines
