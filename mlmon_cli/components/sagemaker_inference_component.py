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
from typing import ClassVar

from ..spec.model import doc
from . import component
from .base import AlarmDef, AlarmDocs, AlarmPolicy, AlarmTarget, Binding, Component, Inventory, Metric, TemplateResource

INVOCATIONS = "AWS/SageMaker"
COMPONENTS = "/aws/sagemaker/InferenceComponents"
VERIFY = ("[unverified] that {metric} is published per InferenceComponentName: check with 'aws cloudwatch list-metrics "
          "--namespace AWS/SageMaker --dimensions Name=InferenceComponentName,Value=<component>'.")


@dataclass(frozen=True)
class InferenceComponentOptions:
    inference_component_name: str = field(metadata=doc(
        "The component's InferenceComponentName (set it explicitly in CloudFormation; GetAtt of it is refused)."))


@component("sagemaker_inference_component")
class SageMakerInferenceComponent(Component[InferenceComponentOptions]):
    Options = InferenceComponentOptions
    title = "Amazon SageMaker inference component"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html"
    inventory = Inventory("SageMaker inference components", "inference_component_name", "sagemaker", "list_inference_components",
                          "InferenceComponents", name="InferenceComponentName", arn="InferenceComponentArn")
    dimension_names = ("InferenceComponentName",)
    # No GetAtt returns the name (E1010): it is the last part of the component's ARN.
    bindings: ClassVar[Mapping[str, Binding]] = {"AWS::SageMaker::InferenceComponent": Binding({"inference_component_name": "${MlmonName%s}"},
                                                              name_in_arn=("InferenceComponentArn", "inference-component/"))}
    alarms = (
        AlarmDef(
            "invocation_5xx_rate", "Invocation5XXRate",
            Metric(INVOCATIONS, "Invocation5XXErrors", "Average", "fraction"),
            AlarmPolicy(">", 0.01, period=60, evaluation_periods=5, datapoints_to_alarm=3),
            AlarmDocs(
                why="share of the component's requests answered with a 5XX error (0 or 1 per request, so Average is the rate)",
                first_step="read the component's container log in /aws/sagemaker/Endpoints/<endpoint>",
                caveat=VERIFY.format(metric="Invocation5XXErrors")),
        ),
        AlarmDef(
            "invocation_4xx_rate", "Invocation4XXRate",
            Metric(INVOCATIONS, "Invocation4XXErrors", "Average", "fraction"),
            AlarmPolicy(">", 0.05, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="share of the component's requests rejected with a 4XX error",
                first_step="check the request payloads and the InferenceComponentName callers send",
                caveat=VERIFY.format(metric="Invocation4XXErrors")),
        ),
        AlarmDef(
            "model_errors", "ModelErrors",
            Metric(INVOCATIONS, "InvocationModelErrors", "Sum"),
            AlarmPolicy(">=", 1),
            AlarmDocs(
                why="the component's model container returned a non-2XX response",
                first_step="read the container log for the exception",
                caveat=VERIFY.format(metric="InvocationModelErrors")),
        ),
        AlarmDef(
            "model_latency_p99", "ModelLatencyP99",
            Metric(INVOCATIONS, "ModelLatency", "p99", "ms", scale=1000),
            AlarmPolicy(">", 1000, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="the slowest 1 % of the component's responses exceed the objective (metric in microseconds)",
                first_step="compare with the copies' utilization and InvocationsPerCopy; add copies",
                caveat=VERIFY.format(metric="ModelLatency")),
        ),
        AlarmDef(
            "cpu_utilization", "CPUUtilizationNormalized",
            Metric(COMPONENTS, "CPUUtilizationNormalized", "Maximum", "percent"),
            AlarmPolicy(">", 90, period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing", severity="warning"),
            AlarmDocs(
                why="a copy uses over 90 % of its reserved CPU (normalized 0-100 per copy)",
                first_step="raise NumberOfCpuCoresRequired or scale copies on InvocationsPerCopy"),
        ),
        AlarmDef(
            "memory_utilization", "MemoryUtilizationNormalized",
            Metric(COMPONENTS, "MemoryUtilizationNormalized", "Maximum", "percent"),
            AlarmPolicy(">", 90, period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing", severity="warning"),
            AlarmDocs(
                why="a copy uses over 90 % of its reserved memory; the container may be killed",
                first_step="raise MinMemoryRequiredInMb in the component's compute requirements"),
        ),
        AlarmDef(
            "gpu_utilization", "GPUUtilizationNormalized",
            Metric(COMPONENTS, "GPUUtilizationNormalized", "Maximum", "percent"),
            AlarmPolicy(">", 90, period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing",
                        severity="warning", enabled=False),
            AlarmDocs(
                why="a copy's GPUs are saturated (GPU components only)",
                first_step="add copies or raise NumberOfAcceleratorDevicesRequired"),
        ),
        AlarmDef(
            "gpu_memory_utilization", "GPUMemoryUtilizationNormalized",
            Metric(COMPONENTS, "GPUMemoryUtilizationNormalized", "Maximum", "percent"),
            AlarmPolicy(">", 90, period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing",
                        severity="warning", enabled=False),
            AlarmDocs(
                why="a copy's GPU memory is nearly full (GPU components only): out-of-memory errors follow",
                first_step="lower the batch size or max sequence length, or use more accelerators per copy"),
        ),
    )

    def watched(self, o: InferenceComponentOptions) -> str:
        return f"SageMaker inference component {o.inference_component_name}"

    def targets(self, o: InferenceComponentOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"InferenceComponentName": o.inference_component_name})]

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        return ["    # InferenceComponentName dimension: the name in the component's ARN (no GetAtt returns it)"]
