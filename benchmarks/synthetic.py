"""Synthetic specs of mixed kinds, for benchmarks and scale tests (deterministic for a given count)."""

from __future__ import annotations

from typing import Any

import yaml

KINDS = ("lambda", "step_functions", "glue_job", "sagemaker_training", "sagemaker_endpoint", "codepipeline")


def component(index: int) -> dict[str, Any]:
    """The index-th synthetic component; kinds rotate so every size mixes all six."""
    kind = KINDS[index % len(KINDS)]
    name = f"c{index:05d}-{kind.replace('_', '-')}"
    options: dict[str, Any] = {
        "lambda": {"function_name": f"fn-{index}", "timeout_seconds": 60},
        "step_functions": {"state_machine_name": f"sm-{index}"},
        "glue_job": {"job_name": f"job-{index}"},
        "sagemaker_training": {"job_name_prefix": f"train-{index}-"},
        "sagemaker_endpoint": {"endpoint_name": f"ep-{index}"},
        "codepipeline": {"pipeline_name": f"pipe-{index}"},
    }[kind]
    return {"kind": kind, "name": name, **options}


def spec(count: int, solution: str = "bench") -> dict[str, Any]:
    return {
        "solution": solution,
        "notifications": {"emails": ["oncall@example.com"]},
        "components": [component(i) for i in range(count)],
    }


def spec_text(count: int) -> str:
    return yaml.safe_dump(spec(count), sort_keys=False)


def lambdas_and_state_machines(lambdas: int = 1000, state_machines: int = 200, solution: str = "bench") -> dict[str, Any]:
    """The like-for-like spec of the release comparison (issue 17): Lambda functions with a
    timeout, then state machines by name, both kinds every release has."""
    components = [{"kind": "lambda", "name": f"fn-{i:04d}", "function_name": f"fn-{i}", "timeout_seconds": 60}
                  for i in range(lambdas)]
    components += [{"kind": "step_functions", "name": f"sm-{i:04d}", "state_machine_name": f"sm-{i}"} for i in range(state_machines)]
    return {"solution": solution, "notifications": {"emails": ["oncall@example.com"]}, "components": components}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Print a synthetic spec: --count mixed components, or Lambda functions "
                                                 "and state machines (the release comparison's spec).")
    parser.add_argument("--count", type=int, help="mixed components of the six original kinds")
    parser.add_argument("--lambdas", type=int, default=1000)
    parser.add_argument("--state-machines", type=int, default=200)
    options = parser.parse_args()
    data = spec(options.count) if options.count else lambdas_and_state_machines(options.lambdas, options.state_machines)
    print(yaml.safe_dump(data, sort_keys=False), end="")
