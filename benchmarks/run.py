"""Measure mlmon at 10, 100, 1,000 and 5,000 components; print a Markdown table.

Every figure comes from running the real CLI in a subprocess (`python -m mlmon_cli`), so
interpreter start-up and imports are included. The `CPU s` columns are the child's user + system
time (its worker processes included) and peak memory its max RSS (both from wait4): on a shared
machine CPU time is the figure to compare, wall time depends on the load.
Lint is compared with bare `cfn-lint` (its console script, one process) on the same files;
`mlmon lint` lints a split output in parallel, one process per core. "mlmon checks" is the time
of mlmon's own checks alone (limits, nulls, ASL), in-process, as a share of cfn-lint's CPU time.

    python benchmarks/run.py                 # all sizes, lint on all templates
    python benchmarks/run.py --sizes 10 100  # a subset
    python benchmarks/run.py --no-lint       # generate only (minutes less)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.synthetic import spec_text

PYTHON = sys.executable


@dataclass(frozen=True)
class Run:
    seconds: float  # wall
    cpu: float  # user + system of the child
    rss_mib: int
    proc: subprocess.CompletedProcess


def run(args: list[str], cwd: Path) -> Run:
    """Wall and CPU seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    out, err = proc.communicate()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, subprocess.CompletedProcess(args, proc.returncode, out, err))


def best(args: list[str], cwd: Path, repeat: int) -> Run:
    """The fastest of `repeat` runs (least disturbed by other load); the peak RSS of all of them."""
    runs = [run(args, cwd) for _ in range(repeat)]
    for r in runs:
        if r.proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{r.proc.stderr}")
    fastest = min(runs, key=lambda r: r.cpu)
    return Run(fastest.seconds, fastest.cpu, max(r.rss_mib for r in runs), fastest.proc)


def mlmon_checks_seconds(files: list[Path]) -> float:
    """CPU seconds of mlmon's own rules (the registry `mlmon lint` runs after cfn-lint) on decoded templates."""
    from cfnlint.decode import decode_str

    from mlmon_cli.rules import TemplateContext, run_rules

    parsed = [(text, decode_str(text)[0]) for text in (p.read_text() for p in files)]
    start = time.process_time()
    for text, template in parsed:
        list(run_rules(TemplateContext(template, size=len(text.encode("utf-8")))))
    return time.process_time() - start


def resources_of(stderr: str) -> int:
    """The resource count from generate's summary line (`... N resources ...`)."""
    found = re.search(r"([\d,]+) resources", stderr)
    if not found:
        raise SystemExit(f"no resource count in generate's output:\n{stderr}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000, 5000])
    parser.add_argument("--no-lint", action="store_true", help="measure generate only")
    parser.add_argument("--repeat", type=int, help="generate runs per size (default: 3 up to 1,000 components, else 2)")
    parser.add_argument("--help-runs", type=int, default=10, help="runs of `mlmon --help` for the start-up time")
    options = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        help_times = [run([PYTHON, "-m", "mlmon_cli", "--help"], work).seconds for _ in range(options.help_runs)]
        for size in options.sizes:
            spec = work / f"spec-{size}.yaml"
            spec.write_text(spec_text(size))
            out = work / f"out-{size}"
            repeat = options.repeat or (3 if size <= 1000 else 2)
            gen = best([PYTHON, "-m", "mlmon_cli", "generate", str(spec), "-o", str(out)], work, repeat)
            files = sorted([*out.glob("template.yaml"), *(out / "stacks").glob("*.yaml")])
            size_bytes = sum(p.stat().st_size for p in files)
            row: dict[str, float | int] = {"components": size, "generate s": gen.seconds, "generate CPU s": gen.cpu, "peak MiB": gen.rss_mib,
                                           "resources": resources_of(gen.proc.stderr), "templates": len(files), "bytes": size_bytes}
            if not options.no_lint:
                cfn = run([str(Path(PYTHON).parent / "cfn-lint"), *map(str, files)], work)
                if cfn.proc.returncode & 1 or "Traceback" in cfn.proc.stderr:  # cfn-lint: 2/4/8 = findings, 1 = crash
                    raise SystemExit(f"cfn-lint failed:\n{cfn.proc.stderr[-2000:]}")
                ours = run([PYTHON, "-m", "mlmon_cli", "lint", str(out)], work)
                if ours.proc.returncode != 0:
                    raise SystemExit(f"mlmon lint found errors:\n{ours.proc.stdout[-2000:]}")
                checks = mlmon_checks_seconds(files)
                row.update({"cfn-lint s": cfn.seconds, "cfn-lint CPU s": cfn.cpu, "mlmon lint s": ours.seconds, "mlmon lint CPU s": ours.cpu,
                            "mlmon checks % of cfn-lint": 100 * checks / cfn.cpu})
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    print(f"\n`mlmon --help`: median {statistics.median(help_times):.3f} s, best {min(help_times):.3f} s ({len(help_times)} runs)\n")
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(f"{row[h]:,.2f}" if isinstance(row[h], float) else f"{row[h]:,}" for h in headers) + " |")
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
