"""Measure mlmon at 10, 100, 1,000 and 5,000 components; print a Markdown table.

Every figure comes from running the real CLI in a subprocess (`python -m mlmon_cli`), so
interpreter start-up and imports are included. Peak memory is the child's max RSS (wait4).
Lint is compared with bare `cfn-lint` (its console script, one process) on the same files;
`mlmon lint` lints a split output in parallel, one process per core. "mlmon checks" is the time
of mlmon's own checks alone (limits, nulls, ASL), in-process, as a share of cfn-lint's time.

    python benchmarks/run.py                 # all sizes, lint on all templates
    python benchmarks/run.py --sizes 10 100  # a subset
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.synthetic import spec_text  # noqa: E402

PYTHON = sys.executable


def run(args: list[str], cwd: Path) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    out, err = proc.communicate()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss // 1024, subprocess.CompletedProcess(args, proc.returncode, out, err)


def best(args: list[str], cwd: Path, repeat: int) -> tuple[float, int, subprocess.CompletedProcess]:
    runs = [run(args, cwd) for _ in range(repeat)]
    for _, _, proc in runs:
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def mlmon_checks_seconds(files: list[Path]) -> float:
    from cfnlint.decode import decode_str

    from mlmon_cli.lint import _mlmon_checks

    texts = [(p, p.read_text()) for p in files]
    parsed = [(p, t, decode_str(t)[0]) for p, t in texts]
    start = time.perf_counter()
    for p, text, template in parsed:
        _mlmon_checks(template, text, str(p))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000, 5000])
    parser.add_argument("--no-lint", action="store_true")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        help_times = [run([PYTHON, "-m", "mlmon_cli", "--help"], work)[0] for _ in range(10)]
        for size in options.sizes:
            spec = work / f"spec-{size}.yaml"
            spec.write_text(spec_text(size))
            out = work / f"out-{size}"
            seconds, rss, proc = best([PYTHON, "-m", "mlmon_cli", "generate", str(spec), "-o", str(out)], work, 3 if size <= 1000 else 2)
            files = sorted([*out.glob("template.yaml"), *(out / "stacks").glob("*.yaml")])
            size_bytes = sum(p.stat().st_size for p in files)
            resources = int(proc.stderr.split(" resources")[0].rsplit(" ", 1)[-1])
            row = {"components": size, "generate s": seconds, "peak MiB": rss, "resources": resources,
                   "templates": len(files), "bytes": size_bytes}
            if not options.no_lint:
                cfn = run([str(Path(PYTHON).parent / "cfn-lint"), *map(str, files)], work)
                if cfn[2].returncode & 1 or "Traceback" in cfn[2].stderr:  # cfn-lint: 2/4/8 = findings, 1 = crash
                    raise SystemExit(f"cfn-lint failed:\n{cfn[2].stderr[-2000:]}")
                ours = run([PYTHON, "-m", "mlmon_cli", "lint", str(out)], work)
                if ours[2].returncode != 0:
                    raise SystemExit(f"mlmon lint found errors:\n{ours[2].stdout[-2000:]}")
                checks = mlmon_checks_seconds(files)
                row.update({"cfn-lint s": cfn[0], "mlmon lint s": ours[0], "mlmon checks % of cfn-lint": 100 * checks / cfn[0]})
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    print(f"\n`mlmon --help`: median {statistics.median(help_times):.3f} s, best {min(help_times):.3f} s (10 runs)\n")
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(f"{row[h]:,.2f}" if isinstance(row[h], float) else f"{row[h]:,}" for h in headers) + " |")
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
