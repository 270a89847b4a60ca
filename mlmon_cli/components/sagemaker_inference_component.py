"""Amazon SageMaker inference components (models hosted on a shared endpoint, scaled in copies).

Metrics: https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html (inference
component section). Invocation metrics are in `AWS/SageMaker` with the dimension
`InferenceComponentName` **alone** (no EndpointName); per-copy utilization is in
`/aws/sagemaker/InferenceComponents` (`CPUUtilizationNormalized`, `MemoryUtilizationNormalized`,
`GPUUtilizationNormalized`, `GPUMemoryUtilizationNormalized`: 0-100 % of the copy's reservation, or
of its limit when nothing is reserved). AWS lists dimension sets per table, not per metric, so each
invocation alarm says [unverified] with the list-metrics command that settles it. There is no
inference-component state-change event (the endpoint's still fires; watch it with
`sagemaker_endpoint`). In CloudFormation, `!GetAtt IC.InferenceComponentName` is rejected (E1010):
set `InferenceComponentName` explicitly and give the same literal here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.model import doc
from . import component
from .base import AlarmDef, AlarmTarget, Binding, Component, TemplateResource

INVOCATIONS = "AWS/SageMaker"
COMPONENTS = "/aws/sagemaker/InferenceComponents"
VERIFY = ("[unverified] that {metric} is published per InferenceComponentName: check with 'aws cloudwatch list-metrics "
          "--namespace AWS/SageMaker --dimensions Name=InferenceComponentName,Value=<component>'.")


@dataclass(frozen=True)
class InferenceComponentOptions:
    inference_component_name: str = field(metadata=doc(
        "The component's InferenceComponentName (set it explicitly in CloudFormation; GetAtt of it is refused)."))


def _a(key: str, suffix: str, metric: str, namespace: str, statistic: str, comparison: str, threshold: float, unit: str,
       why: str, first_step: str, **kw: Any) -> AlarmDef:
    if namespace == INVOCATIONS:
        kw.setdefault("caveat", VERIFY.format(metric=metric))
    return AlarmDef(key=key, suffix=suffix, metric=metric, namespace=namespace, statistic=statistic, comparison=comparison,
                    threshold=threshold, unit=unit, why=why, first_step=first_step, **kw)


@component("sagemaker_inference_component")
class SageMakerInferenceComponent(Component[InferenceComponentOptions]):
    Options = InferenceComponentOptions
    title = "Amazon SageMaker inference component"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html"
    dimension_names = ("InferenceComponentName",)
    # No GetAtt returns the name (E1010): it is the last part of the component's ARN.
    bindings: ClassVar[Mapping[str, Binding]] = {"AWS::SageMaker::InferenceComponent": Binding({"inference_component_name": "${MlmonName%s}"},
                                                              name_in_arn=("InferenceComponentArn", "inference-component/"))}
    alarms = (
        _a("invocation_5xx_rate", "Invocation5XXRate", "Invocation5XXErrors", INVOCATIONS, "Average", ">", 0.01, "fraction",
           period=60, evaluation_periods=5, datapoints_to_alarm=3,
           why="share of the component's requests answered with a 5XX error (0 or 1 per request, so Average is the rate)",
           first_step="read the component's container log in /aws/sagemaker/Endpoints/<endpoint>"),
        _a("invocation_4xx_rate", "Invocation4XXRate", "Invocation4XXErrors", INVOCATIONS, "Average", ">", 0.05, "fraction",
           period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning",
           why="share of the component's requests rejected with a 4XX error",
           first_step="check the request payloads and the InferenceComponentName callers send"),
        _a("model_errors", "ModelErrors", "InvocationModelErrors", INVOCATIONS, "Sum", ">=", 1, "count",
           why="the component's model container returned a non-2XX response",
           first_step="read the container log for the exception"),
        _a("model_latency_p99", "ModelLatencyP99", "ModelLatency", INVOCATIONS, "p99", ">", 1000, "ms", scale=1000,
           period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning",
           why="the slowest 1 % of the component's responses exceed the objective (metric in microseconds)",
           first_step="compare with the copies' utilization and InvocationsPerCopy; add copies"),
        _a("cpu_utilization", "CPUUtilizationNormalized", "CPUUtilizationNormalized", COMPONENTS, "Maximum", ">", 90,
           "percent", period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing", severity="warning",
           why="a copy uses over 90 % of its reserved CPU (normalized 0-100 per copy)",
           first_step="raise NumberOfCpuCoresRequired or scale copies on InvocationsPerCopy"),
        _a("memory_utilization", "MemoryUtilizationNormalized", "MemoryUtilizationNormalized", COMPONENTS, "Maximum", ">", 90,
           "percent", period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing", severity="warning",
           why="a copy uses over 90 % of its reserved memory; the container may be killed",
           first_step="raise MinMemoryRequiredInMb in the component's compute requirements"),
        _a("gpu_utilization", "GPUUtilizationNormalized", "GPUUtilizationNormalized", COMPONENTS, "Maximum", ">", 90,
           "percent", period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing", severity="warning",
           enabled=False, why="a copy's GPUs are saturated (GPU components only)",
           first_step="add copies or raise NumberOfAcceleratorDevicesRequired"),
        _a("gpu_memory_utilization", "GPUMemoryUtilizationNormalized", "GPUMemoryUtilizationNormalized", COMPONENTS,
           "Maximum", ">", 90, "percent", period=60, evaluation_periods=5, datapoints_to_alarm=5,
           treat_missing_data="missing", severity="warning", enabled=False,
           why="a copy's GPU memory is nearly full (GPU components only): out-of-memory errors follow",
           first_step="lower the batch size or max sequence length, or use more accelerators per copy"),
    )

    def watched(self, o: InferenceComponentOptions) -> str:
        return f"SageMaker inference component {o.inference_component_name}"

    def targets(self, o: InferenceComponentOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"InferenceComponentName": o.inference_component_name})]

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        return ["    # InferenceComponentName dimension: the name in the component's ARN (no GetAtt returns it)"]
