"""Monthly CloudWatch bill: mlmon (each rollup) vs cdk-monitoring-constructs, same solution.

    python benchmarks/cost_vs_cdk.py [--lambdas 100] [--state-machines 20]

The solution: N Lambda functions and M Step Functions state machines. mlmon's output is built
in-process for each `notifications.rollup`; the baseline is benchmarks/cdk_app.js synthesized
with node against the pinned aws-cdk-lib and cdk-monitoring-constructs that tools/cdk/install.sh
installs (npm). Both templates are priced by the same function, mlmon_cli.core.cost.price_template.
Targets (issue 14): default rollup <= 3x the baseline, cheapest rollup <= 1.3x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlmon_cli.core.build import build_template  # noqa: E402
from mlmon_cli.core.cost import PRICES_DATE, Bill, estimate, price_template  # noqa: E402
from mlmon_cli.core.pipeline import parse_spec  # noqa: E402
from mlmon_cli.spec.model import ROLLUPS  # noqa: E402

CDK_VERSIONS = json.loads((ROOT / "tools" / "cdk" / "package.json").read_text())["dependencies"]


def spec(lambdas: int, machines: int, rollup: str) -> dict[str, Any]:
    components = [{"kind": "lambda", "name": f"fn-{i}", "function_name": f"fn-{i}", "timeout_seconds": 60} for i in range(lambdas)]
    components += [{"kind": "step_functions", "name": f"sm-{i}", "state_machine_name": f"sm-{i}"} for i in range(machines)]
    return {"solution": "bench", "notifications": {"emails": ["oncall@example.com"], "rollup": rollup}, "components": components}


def mlmon_bill(lambdas: int, machines: int, rollup: str) -> Bill:
    return estimate(build_template(parse_spec(yaml.safe_dump(spec(lambdas, machines, rollup)), "bench.yaml")))


def cdk_bill(lambdas: int, machines: int) -> Bill:
    node_dir = subprocess.run(["bash", str(ROOT / "tools" / "cdk" / "install.sh")], check=True, capture_output=True,
                              text=True).stdout.strip().splitlines()[-1]
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "NODE_PATH": str(Path(node_dir) / "node_modules"), "CDK_DISABLE_VERSION_CHECK": "1"}
        subprocess.run(["node", str(ROOT / "benchmarks" / "cdk_app.js"), out, str(lambdas), str(machines)], check=True, env=env)
        return price_template(json.loads((Path(out) / "Bench.template.json").read_text()), Bill())


def row(name: str, bill: Bill, base: float) -> str:
    return (f"| {name} | {bill.count('metric alarm')} | {bill.count('composite')} | {bill.count('dashboard')} | "
            f"{bill.count('KMS')} | ${bill.total:,.2f} | {bill.total / base:.2f}x |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lambdas", type=int, default=100)
    parser.add_argument("--state-machines", type=int, default=20)
    args = parser.parse_args()
    baseline = cdk_bill(args.lambdas, args.state_machines)
    bills = {rollup: mlmon_bill(args.lambdas, args.state_machines, rollup) for rollup in ROLLUPS}
    print(f"{args.lambdas} Lambda functions + {args.state_machines} state machines; list prices of {PRICES_DATE} (us-east-1)")
    print("| output | alarm metrics | composites | dashboards | KMS keys | $/month | vs cdk |")
    print("|---|---|---|---|---|---|---|")
    print(row(f"cdk-monitoring-constructs {CDK_VERSIONS['cdk-monitoring-constructs']} (aws-cdk-lib {CDK_VERSIONS['aws-cdk-lib']})",
              baseline, baseline.total))
    for rollup, bill in bills.items():
        print(row(f"mlmon, rollup: {rollup}{' (default)' if rollup == 'component' else ''}", bill, baseline.total))
    default, cheapest = bills["component"].total / baseline.total, min(b.total for b in bills.values()) / baseline.total
    print(f"default {default:.2f}x (target <= 3x): {'met' if default <= 3 else 'NOT met'}; "
          f"cheapest {cheapest:.2f}x (target <= 1.3x): {'met' if cheapest <= 1.3 else 'NOT met'}")
    return 0 if default <= 3 and cheapest <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
