"""Command line behind the Makefile: ``python -m optlab figures|check|bench|report``.

Run from the repository root (the lab folders ``figures/``, ``theory_checks/``
and ``benchmarks/`` live there; the library itself never imports them).

figures   run every ``figures/fig_*.py`` (progress line per figure), then the
          claims suite, then write ``figures/out/REPORT.md``, ``report.html``
          and ``claims.json``. ``--quick``: small instances and the fast claim
          tier only (a few minutes).
check     the claims suite (fast + ``slow`` tiers; ``--quick``: fast only), then
          the report (claims.json, REPORT.md).
bench     every ``benchmarks/bench_*.py``, then ``benchmarks/out/ratios.md``.
report    rebuild the report from the last recorded verdicts.

Common options: ``--only NAME`` (substring filter on script or test names),
``--jobs N`` (worker processes for sweeps), ``--scheduler ADDR`` (run sweeps on
an existing Dask cluster; same as ``OPTLAB_DASK_SCHEDULER``), ``--out DIR``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from .report import LOG_NAME, REGISTRY_NAME, write_report

DEFAULT_OUT = Path("figures") / "out"


def _root() -> Path:
    """The repository root: the folder holding figures/ and theory_checks/."""
    here = Path.cwd()
    for cand in (here, *here.parents):
        if (cand / "theory_checks").is_dir() and (cand / "pyproject.toml").exists():
            return cand
    pkg_root = Path(__file__).resolve().parent.parent
    if (pkg_root / "theory_checks").is_dir():
        return pkg_root
    sys.exit("optlab: run this from the optlab repository (figures/ and theory_checks/ not found)")


def _env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    if args.scheduler:
        env["OPTLAB_DASK_SCHEDULER"] = args.scheduler
    if args.jobs:
        env["OPTLAB_JOBS"] = str(args.jobs)
    root = _root()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return env


def _scripts(folder: Path, prefix: str, only: str | None) -> list[Path]:
    found = sorted(p for p in folder.glob(f"{prefix}*.py") if not p.name.startswith("_"))
    if only:
        found = [p for p in found if only in p.stem]
    return found


def _run_scripts(scripts: list[Path], extra: list[str], env: dict[str, str], label: str) -> list[str]:
    failed = []
    n = len(scripts)
    t_all = time.perf_counter()
    for i, script in enumerate(scripts, 1):
        print(f"[{label} {i}/{n}] {script.stem} ...", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script), *extra], env=env, cwd=_root())
        dt = time.perf_counter() - t0
        status = "done" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        print(f"[{label} {i}/{n}] {script.stem} {status} in {dt:.1f} s", flush=True)
        if proc.returncode != 0:
            failed.append(script.stem)
    print(f"[{label}] {n - len(failed)}/{n} succeeded in {time.perf_counter() - t_all:.1f} s", flush=True)
    return failed


def _run_claims(args: argparse.Namespace, out: Path, env: dict[str, str]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    log = out / LOG_NAME
    if log.exists():
        log.unlink()
    env = dict(env)
    env["OPTLAB_CLAIMS_LOG"] = str(log.resolve())
    env["OPTLAB_CLAIMS_REGISTRY"] = str((out / REGISTRY_NAME).resolve())
    cmd = [sys.executable, "-m", "pytest", "theory_checks", "-q", "-p", "no:cacheprovider"]
    if args.quick:
        cmd += ["-m", "not slow"]
    if args.only:
        cmd += ["-k", args.only]
    print("[claims] " + " ".join(cmd[1:]), flush=True)
    return subprocess.run(cmd, env=env, cwd=_root()).returncode


def _report(out: Path) -> int:
    summary = write_report(out, scripts_dir=_root() / "figures")
    print(
        f"[report] {summary['n_claims']} claims: {summary['n_passed']} pass, "
        f"{summary['n_failed']} fail, {summary['n_not_run']} not run -> {out / 'REPORT.md'}",
        flush=True,
    )
    return 1 if summary["n_failed"] else 0


def cmd_figures(args: argparse.Namespace) -> int:
    root = _root()
    out = (root / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    env = _env(args)
    extra = ["--out", str(out)]
    if args.quick:
        extra.append("--quick")
    if args.jobs:
        extra += ["--jobs", str(args.jobs)]
    if args.scheduler:
        extra += ["--scheduler", args.scheduler]
    failed = _run_scripts(_scripts(root / "figures", "fig_", args.only), extra, env, "figures")
    rc_claims = 0 if args.no_check else _run_claims(args, out, env)
    rc_report = _report(out)
    if failed:
        print(f"[figures] failed: {', '.join(failed)}", flush=True)
    return int(bool(failed) or rc_claims != 0 or rc_report != 0)


def cmd_check(args: argparse.Namespace) -> int:
    root = _root()
    out = (root / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    rc = _run_claims(args, out, _env(args))
    rc_report = _report(out)
    return int(rc != 0 or rc_report != 0)


def cmd_report(args: argparse.Namespace) -> int:
    root = _root()
    out = (root / args.out) if not Path(args.out).is_absolute() else Path(args.out)
    return _report(out)


def cmd_bench(args: argparse.Namespace) -> int:
    root = _root()
    out = root / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    extra = ["--out", str(out)]
    if args.quick:
        extra.append("--quick")
    env = _env(args)
    failed = _run_scripts(_scripts(root / "benchmarks", "bench_", args.only), extra, env, "bench")
    from .bench import write_ratio_table

    table = write_ratio_table(out)
    print(f"[bench] ratio table -> {table}", flush=True)
    return int(bool(failed))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m optlab", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser, out: bool = True) -> None:
        sp.add_argument("--quick", action="store_true", help="small instances / fast claim tier")
        sp.add_argument("--only", metavar="NAME", help="only scripts/claims whose name contains NAME")
        sp.add_argument("--jobs", type=int, default=None, help="worker processes for sweeps")
        sp.add_argument(
            "--scheduler",
            metavar="ADDR",
            default=None,
            help="Dask scheduler address for sweeps (default: $OPTLAB_DASK_SCHEDULER, else local processes)",
        )
        if out:
            sp.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default figures/out)")

    sp = sub.add_parser("figures", help="all paper figures + claims + report (the main job)")
    common(sp)
    sp.add_argument("--no-check", action="store_true", help="skip the claims suite (report from old verdicts)")
    sp.set_defaults(func=cmd_figures)
    sp = sub.add_parser("check", help="claims suite (fast + slow) and report")
    common(sp)
    sp.set_defaults(func=cmd_check)
    sp = sub.add_parser("bench", help="benchmarks against the peers; ratio table")
    common(sp, out=False)
    sp.set_defaults(func=cmd_bench)
    sp = sub.add_parser("report", help="rebuild REPORT.md/claims.json from the last verdicts")
    sp.add_argument("--out", default=str(DEFAULT_OUT))
    sp.set_defaults(func=cmd_report, quick=False, only=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
