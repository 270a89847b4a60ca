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
