"""DataFrames of impact's results, for notebooks: the one place that names their columns.

Column names are constants so notebooks and other code can refer to them without typing strings, and so
they stay stable: renaming one is a visible change here. pandas is imported inside each function, never at
module level, so the terminal commands (which never build a DataFrame) do not pay for importing it.
Every frame has plain columns (no index to reset) and integer counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from impact.analysis.branches import BranchComparison
    from impact.analysis.compare import Comparison
    from impact.analysis.landscape import Landscape
    from impact.analysis.rank import Ranking
    from impact.analysis.rebuild import RebuildEstimate

# -- column names -----------------------------------------------------------------------------------------

#: The jobset of a job: `nixpkgs` or `nixos`.
JOBSET = "jobset"
#: A job's attribute, e.g. `qemu.x86_64-linux`.
ATTR = "attr"
#: A job's attribute without its system, e.g. `qemu`.
PACKAGE = "package"
#: Other attributes of the same derivation (or the same change), comma-separated; empty when none.
ALIASES = "aliases"
#: A system, e.g. `x86_64-linux`.
SYSTEM = "system"
#: The kernel of a system: `linux` or `darwin`.
KERNEL = "kernel"
#: True for a NixOS VM test job (`nixos` jobset, `tests.…`).
NIXOS_TEST = "nixos_test"
#: True for a job that any commit changes (it embeds the nixpkgs source tree).
EVERY_COMMIT = "every_commit"
#: Changed jobs (a count).
JOBS = "jobs"
#: Changed jobs of the `nixpkgs` jobset (a count).
NIXPKGS_JOBS = "nixpkgs_jobs"
#: Changed jobs of the `nixos` jobset (a count).
NIXOS_JOBS = "nixos_jobs"
#: Derivations that get new output paths: what Hydra builds (a count).
DERIVATIONS_TO_BUILD = "derivations_to_build"
#: Derivations that get new output paths but that Hydra does not build (they only feed fixed-output ones).
REBUILT_NOT_BUILT = "rebuilt_not_built"
#: Position in a ranking, 1 for the package whose change rebuilds most.
RANK = "rank"
#: Changed jobs on Linux systems (a count).
JOBS_LINUX = "jobs_linux"
#: Changed jobs on Darwin systems (a count).
JOBS_DARWIN = "jobs_darwin"
#: Changed jobs over every jobset and system (a count).
JOBS_TOTAL = "jobs_total"
#: Root derivations of a package (a count).
ROOTS = "roots"
#: Rebuilds on Linux as nixpkgs CI counts them: unique nixpkgs package names among the changed Linux jobs.
REBUILDS_LINUX = "rebuilds_linux"
#: Rebuilds on Darwin, counted the same way.
REBUILDS_DARWIN = "rebuilds_darwin"
#: True when the package's change rebuilds a Linux `stdenv` job.
STDENV_LINUX = "stdenv_linux"
#: True when the package's change rebuilds a Darwin `stdenv` job.
STDENV_DARWIN = "stdenv_darwin"
#: The change a row belongs to, as it was named (`qemu`, `linux_4_4`).
CHANGE = "change"
#: The branch the policy sends a change to, e.g. `staging`.
BRANCH = "branch"
#: The rebuild labels a change earns, joined by ", ".
LABELS = "labels"
#: Changed NixOS VM test jobs (a count).
NIXOS_TESTS = "nixos_tests"
#: Changed jobs of the `nixpkgs` jobset that no other compared change rebuilds (a count).
ONLY_NIXPKGS_JOBS = "only_nixpkgs_jobs"
#: Changed jobs of the `nixos` jobset that no other compared change rebuilds (a count).
ONLY_NIXOS_JOBS = "only_nixos_jobs"
#: Derivations to build that no other compared change rebuilds (a count).
ONLY_DERIVATIONS = "only_derivations"
#: How a job stands between two branches: one of the `STATUS_*` values.
STATUS = "status"
#: The job exists only in snapshot A.
STATUS_ONLY_A = "only_a"
#: The job exists only in snapshot B.
STATUS_ONLY_B = "only_b"
#: The job exists in both with different output paths.
STATUS_DIFFER = "differ"
#: The job exists in both with the same output paths.
STATUS_SAME = "same"
#: The derivation name of a job in snapshot A (empty when absent).
NAME_A = "name_a"
#: The derivation name of a job in snapshot B (empty when absent).
NAME_B = "name_b"
#: Jobs with a given status, per jobset and system (counts), one column per `STATUS_*` value.
BRANCH_COUNT_COLUMNS = (STATUS_ONLY_A, STATUS_ONLY_B, STATUS_DIFFER, STATUS_SAME)

ESTIMATE_JOB_COLUMNS = (JOBSET, ATTR, PACKAGE, SYSTEM, KERNEL, NIXOS_TEST, EVERY_COMMIT)
ESTIMATE_SYSTEM_COLUMNS = (SYSTEM, KERNEL, NIXPKGS_JOBS, NIXOS_JOBS, DERIVATIONS_TO_BUILD, REBUILT_NOT_BUILT)
RANKING_COLUMNS = (RANK, PACKAGE, JOBS_LINUX, JOBS_DARWIN, JOBS_TOTAL, NIXOS_JOBS, DERIVATIONS_TO_BUILD, ROOTS, ALIASES)
LANDSCAPE_COLUMNS = (*RANKING_COLUMNS, REBUILDS_LINUX, REBUILDS_DARWIN, STDENV_LINUX, STDENV_DARWIN)
BRANCHES_COLUMNS = (JOBSET, SYSTEM, KERNEL, *BRANCH_COUNT_COLUMNS)
BRANCHES_JOB_COLUMNS = (JOBSET, ATTR, PACKAGE, SYSTEM, STATUS, NAME_A, NAME_B)
COMPARE_COLUMNS = (
    CHANGE,
    BRANCH,
    NIXPKGS_JOBS,
    NIXOS_JOBS,
    NIXOS_TESTS,
    DERIVATIONS_TO_BUILD,
    ONLY_NIXPKGS_JOBS,
    ONLY_NIXOS_JOBS,
    ONLY_DERIVATIONS,
    LABELS,
)
COMPARE_SYSTEM_COLUMNS = (CHANGE, *ESTIMATE_SYSTEM_COLUMNS)


def kernel_of(system: str) -> str:
    """The kernel of a system: `x86_64-linux` → `linux` (`builtin` stays `builtin`)."""
    return system.rsplit("-", 1)[-1]


def _frame(rows: list[dict[str, Any]] | list[tuple[Any, ...]], columns: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=list(columns)) if rows else pd.DataFrame(columns=list(columns))


def _split_attr(attr: str, systems: set[str]) -> tuple[str, str]:
    """(package, system) of a job attribute whose last part is a system; ("attr", "") when it is not."""
    package, _, last = attr.rpartition(".")
    return (package, last) if package and last in systems else (attr, "")


def _estimate_systems(result: RebuildEstimate) -> set[str]:
    systems = set(result.derivations_to_build_by_system) | set(result.rebuilt_not_built_by_system)
    for per in result.changed_jobs_by_system.values():
        systems.update(per)
    return systems


# -- estimate ---------------------------------------------------------------------------------------------


def estimate_jobs_frame(result: RebuildEstimate) -> pd.DataFrame:
    """One row per changed job: jobset, attribute, package, system, kernel, NixOS test, every commit.

    The system is the attribute's last part; an attribute without one (`tests.docker`) gets its jobset's
    system when the jobset's changed jobs are all on one system (the `nixos` jobset), else "".
    """
    systems = _estimate_systems(result)
    tests = set(result.nixos_tests)
    rows = []
    for jobset, attrs in result.changed_jobs.items():
        every = set(result.every_commit_jobs.get(jobset, ()))
        # An attribute without a system part (some NixOS tests) is on the jobset's only system, when it has one.
        only = list(result.changed_jobs_by_system.get(jobset, {}))
        for attr in attrs:
            package, system = _split_attr(attr, systems)
            system = system or (only[0] if len(only) == 1 else "")
            rows.append(
                (
                    jobset,
                    attr,
                    package,
                    system,
                    kernel_of(system) if system else "",
                    jobset == "nixos" and attr in tests,
                    attr in every,
                )
            )
    return _frame(rows, ESTIMATE_JOB_COLUMNS)


def estimate_systems_frame(result: RebuildEstimate) -> pd.DataFrame:
    """One row per system: changed jobs of each jobset and derivations to build."""
    systems = sorted(_estimate_systems(result), key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))
    rows = [
        (
            s,
            kernel_of(s),
            result.changed_jobs_by_system.get("nixpkgs", {}).get(s, 0),
            result.changed_jobs_by_system.get("nixos", {}).get(s, 0),
            result.derivations_to_build_by_system.get(s, 0),
            result.rebuilt_not_built_by_system.get(s, 0),
        )
        for s in systems
    ]
    return _frame(rows, ESTIMATE_SYSTEM_COLUMNS)


def compare_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per compared change: branch, changed jobs, NixOS tests, derivations, what only it rebuilds, labels."""
    rows = []
    for c in comparison.changes:
        e = c.report.estimate
        rows.append(
            (
                c.name,
                c.report.branch.target,
                len(e.changed_jobs.get("nixpkgs", ())),
                len(e.changed_jobs.get("nixos", ())),
                len(e.nixos_tests),
                e.derivations_to_build,
                len(c.only_jobs.get("nixpkgs", ())),
                len(c.only_jobs.get("nixos", ())),
                c.only_derivations,
                ", ".join(c.report.labels.active),
            )
        )
    return _frame(rows, COMPARE_COLUMNS)


def compare_systems_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per (compared change, system): changed jobs of each jobset and derivations to build."""
    import pandas as pd

    frames = []
    for c in comparison.changes:
        per = estimate_systems_frame(c.report.estimate)
        per.insert(0, CHANGE, c.name)
        frames.append(per)
    return pd.concat(frames, ignore_index=True) if frames else _frame([], COMPARE_SYSTEM_COLUMNS)


# -- rank -------------------------------------------------------------------------------------------------


def ranking_frame(ranking: Ranking) -> pd.DataFrame:
    """One row per package, in the ranking's order: rank, package, jobs per kernel and total, derivations, aliases."""
    rows = [
        (
            i,
            r.package,
            r.jobs_linux,
            r.jobs_darwin,
            r.jobs_total,
            r.nixos_jobs,
            r.derivations_to_build,
            r.roots,
            ", ".join(r.aliases),
        )
        for i, r in enumerate(ranking.rows, 1)
    ]
    return _frame(rows, RANKING_COLUMNS)


def landscape_frame(landscape: Landscape) -> pd.DataFrame:
    """The ranking's rows plus rebuilds per kernel and stdenv flags.

    Rebuilds are counted only for packages whose jobs reach the lowest line; the others are missing (`<NA>`),
    known to be below every line.
    """
    import pandas as pd

    frame = ranking_frame(landscape.ranking)
    for column, kernel in ((REBUILDS_LINUX, "linux"), (REBUILDS_DARWIN, "darwin")):
        counted = [landscape.rebuilds.get(p, {}).get(kernel) for p in frame[PACKAGE]]
        frame[column] = pd.array(counted, dtype="Int64")
    for column, kernel in ((STDENV_LINUX, "linux"), (STDENV_DARWIN, "darwin")):
        level = set(landscape.stdenv_level.get(kernel, ()))
        frame[column] = [p in level for p in frame[PACKAGE]]
    return frame


# -- branches ---------------------------------------------------------------------------------------------


def branches_frame(comparison: BranchComparison) -> pd.DataFrame:
    """One row per (jobset, system): jobs only in A, only in B, differing and the same."""
    rows = [
        (js, system, kernel_of(system), *(counts[k] for k in BRANCH_COUNT_COLUMNS))
        for js, per in comparison.by_system.items()
        for system, counts in per.items()
    ]
    return _frame(rows, BRANCHES_COLUMNS)


def branches_jobs_frame(comparison: BranchComparison) -> pd.DataFrame:
    """One row per job that is not the same on both sides: status, and its derivation name on each side."""
    rows = []
    for status, table in (
        (STATUS_ONLY_A, comparison.only_a),
        (STATUS_ONLY_B, comparison.only_b),
        (STATUS_DIFFER, comparison.differ),
    ):
        for js, attrs in table.items():
            for attr in attrs:
                system = comparison.systems[(js, attr)]
                package = attr.removesuffix("." + system)
                name_a, name_b = comparison.names[(js, attr)]
                rows.append((js, attr, package, system, status, name_a, name_b))
    return _frame(rows, BRANCHES_JOB_COLUMNS)


# -- dispatch ---------------------------------------------------------------------------------------------


def to_dataframe(result: Any, per: str | None = None) -> pd.DataFrame:
    """The DataFrame of any analysis result, `per` choosing its rows where a result has several views.

    - `RebuildEstimate`: `per="job"` (default, one row per changed job) or `"system"`.
    - `Comparison`: `per="change"` (default) or `"system"` (one row per change and system).
    - `BranchComparison`: `per="system"` (default, counts per jobset and system) or `"job"` (differing jobs).
    - `Ranking`, `Landscape`: one row per package (`per` is not used).
    """
    from impact.analysis.branches import BranchComparison
    from impact.analysis.compare import Comparison
    from impact.analysis.landscape import Landscape
    from impact.analysis.rank import Ranking
    from impact.analysis.rebuild import RebuildEstimate

    views: dict[type, dict[str | None, Any]] = {
        RebuildEstimate: {None: estimate_jobs_frame, "job": estimate_jobs_frame, "system": estimate_systems_frame},
        Comparison: {None: compare_frame, "change": compare_frame, "system": compare_systems_frame},
        BranchComparison: {None: branches_frame, "system": branches_frame, "job": branches_jobs_frame},
        Ranking: {None: ranking_frame},
        Landscape: {None: landscape_frame},
    }
    for kind, by_view in views.items():
        if isinstance(result, kind):
            if per not in by_view:
                choices = ", ".join(repr(v) for v in by_view if v is not None) or "none"
                raise ValueError(f"{kind.__name__} has no per={per!r} view; choose one of: {choices}")
            return by_view[per](result)
    raise TypeError(f"no DataFrame for {type(result).__name__}")
