"""Amazon Bedrock model invocations (`AWS/Bedrock`, dimension `ModelId`), plus a guardrail and an
agent alias where named.

Metrics: https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-runtime-metrics.html
Only `bedrock-runtime` traffic (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream)
is counted; `ModelId` is the only documented dimension (no inference-profile dimension). Its value:
the model ID for a base model, the profile ID the application sends for a cross-Region inference
profile (`us.anthropic...`), and for an application inference profile its **ID** (the ARN's last
part, `GetAtt InferenceProfileId`), not the ARN the application sends (aws-ml-facts-3.md §0: a
recorded live test; AWS's pages are silent, so [unverified]: `aws cloudwatch list-metrics
--namespace AWS/Bedrock --metric-name Invocations`). Throttled requests count neither as `Invocations` nor as errors, so
`throttles` is its own alarm; error and throttle metrics exist only while there is traffic (missing
data notBreaching). Rates are metric math: errors / MAX([errors, Invocations]).
`TimeToFirstToken` (streaming APIs only) and `EstimatedTPMQuotaUsage` (since 2026-03; every
successful request, no opt-in). AWS on `EstimatedTPMQuotaUsage`: "an approximation ... does not
reflect the reservation-based token consumption that drives throttling decisions ... Do not use this
metric as the sole indicator" - pair it with `throttles`. `tpm_quota_usage` compares the per-minute
Sum with `threshold` (a fraction) x `tpm_quota`.
Guardrails (`AWS/Bedrock/Guardrails`): per-guardrail alarms need both `GuardrailArn` and
`GuardrailVersion` (a number or DRAFT). Agents (`AWS/Bedrock/Agents`): per-alias alarms need
`Operation, AgentAliasArn, ModelId` (there is no alias-only dimension set), and the agent's role
needs `cloudwatch:PutMetricData` on namespace `AWS/Bedrock/Agents`, else no metrics arrive.
https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-guardrails-cw-metrics.html
https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-agents-cw-metrics.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ..spec.kind_facts import property_text, ref_target, yaml_scalar
from ..spec.model import doc
from . import component
from .base import (
    AlarmDef,
    AlarmDocs,
    AlarmPolicy,
    AlarmTarget,
    Binding,
    Component,
    Metric,
    MetricMath,
    TemplateResource,
)

BEDROCK = "AWS/Bedrock"
GUARDRAILS = "AWS/Bedrock/Guardrails"
AGENTS = "AWS/Bedrock/Agents"
GUARDRAIL_DIMS = ("GuardrailArn", "GuardrailVersion")
AGENT_DIMS = ("Operation", "AgentAliasArn", "ModelId")
LIST = "aws cloudwatch list-metrics --namespace {ns} --metric-name {metric}"


@dataclass(frozen=True)
class BedrockModelOptions:
    model_id: str | None = field(default=None, metadata=doc(
        "ModelId dimension: a base model's ID (anthropic.claude-3-5-sonnet-20240620-v1:0), a cross-Region inference "
        "profile's ID as the application sends it (us.anthropic....), or an application inference profile's ID (the last "
        "part of its ARN, GetAtt InferenceProfileId; not the ARN). Without it only the guardrail alarms apply (needed "
        "with `agent_alias_arn`)."))
    latency_p90_ms: int | None = field(default=None, metadata=doc(
        "InvocationLatency p90 objective (request to last token); adds `latency_p90`.", unit="ms", minimum=1))
    ttft_p90_ms: int | None = field(default=None, metadata=doc(
        "TimeToFirstToken p90 objective (streaming APIs only); adds `ttft_p90`.", unit="ms", minimum=1))
    tpm_quota: int | None = field(default=None, metadata=doc(
        "The account's tokens-per-minute quota for this model (Service Quotas); adds `tpm_quota_usage`.", minimum=1))
    guardrail_arn: str | None = field(default=None, metadata=doc("A guardrail to watch (GuardrailArn dimension); needs `guardrail_version`."))
    guardrail_version: str | None = field(default=None, metadata=doc("Its version: a number or DRAFT (GuardrailVersion dimension)."))
    agent_alias_arn: str | None = field(default=None, metadata=doc(
        "An agent alias to watch (AgentAliasArn dimension, with Operation and this model's ModelId)."))
    agent_operation: str = field(default="InvokeAgent", metadata=doc(
        "Operation dimension of the agent alarms.", choices=("InvokeAgent", "InvokeInlineAgent")))
    agent_total_time_p90_ms: int | None = field(default=None, metadata=doc(
        "Agent TotalTime p90 objective; adds `agent_total_time_p90`.", unit="ms", minimum=1))


def _rate(errors: str) -> MetricMath:
    """errors / MAX([errors, Invocations]) on the model's dimensions, a 0-1 fraction."""
    return MetricMath("e / MAX([e, i])", (("e", Metric(BEDROCK, errors, "Sum")), ("i", Metric(BEDROCK, "Invocations", "Sum"))),
                      name=f"{errors} / MAX({errors}, Invocations)", namespace=BEDROCK, statistic="Sum",
                      label=f"{errors} rate", unit="fraction")


MODEL_ID = ("ModelId: a model ID, a cross-Region profile ID, or an application profile's ID (not its ARN; [unverified] by "
            "AWS's pages): aws cloudwatch list-metrics --namespace AWS/Bedrock --metric-name Invocations.")
GUARDRAIL_CAVEAT = ("[unverified] AWS defines these metrics for the ApplyGuardrail API; whether a guardrail attached to "
                    "Converse or InvokeModel requests publishes them: aws cloudwatch list-metrics --namespace "
                    "AWS/Bedrock/Guardrails --dimensions Name=GuardrailArn,Value=<guardrail ARN>.")
RATE_CAVEAT = ("Rate = errors / MAX([errors, Invocations]): AWS's newer text counts failed requests in Invocations, "
               "the older one only successful ones; the MAX keeps the rate within 0-1 under both.")
AGENT_CAVEAT = ("The agent's service role needs cloudwatch:PutMetricData with cloudwatch:namespace = AWS/Bedrock/Agents, "
                "or no agent metric is published.")


@component("bedrock_model")
class BedrockModel(Component[BedrockModelOptions]):
    Options = BedrockModelOptions
    title = "Amazon Bedrock model invocations (and a guardrail, an agent alias)"
    docs_url = "https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-runtime-metrics.html"
    dimension_names = ("ModelId",)
    bindings: ClassVar[Mapping[str, Binding]] = {  # the first one's options stand in when a binding fails (spec/cfn_values.py)
        "AWS::Bedrock::AgentAlias": Binding({"agent_alias_arn": "${%s.AgentAliasArn}"}),
        "AWS::Bedrock::Guardrail": Binding({"guardrail_arn": "${%s.GuardrailArn}", "guardrail_version": "${%s.Version}"}),
        "AWS::Bedrock::GuardrailVersion": Binding({"guardrail_arn": "${%s.GuardrailArn}", "guardrail_version": "${%s.Version}"}),
        # Runtime metrics of an application inference profile carry its ID in ModelId, not its ARN (aws-ml-facts-3.md §0).
        "AWS::Bedrock::ApplicationInferenceProfile": Binding({"model_id": "${%s.InferenceProfileId}"}),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::Bedrock::Agent": "agent metrics exist per alias only (Operation, AgentAliasArn, ModelId): each "
                               "AWS::Bedrock::AgentAlias of it in this template is watched (for others: a bedrock_model with "
                               "agent_alias_arn and model_id)",
    }
    alarms = (
        AlarmDef(
            "server_errors", "ServerErrors",
            Metric(BEDROCK, "InvocationServerErrors", "Sum"),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=3),
            AlarmDocs(
                why="Bedrock answered requests with server errors (5xx) in 3 of 5 minutes; occasional ones are retried by SDKs",
                first_step="check the AWS Health dashboard for Bedrock in the Region and consider a cross-Region inference profile",
                caveat=MODEL_ID),
        ),
        AlarmDef(
            "server_error_rate", "ServerErrorRate",
            _rate("InvocationServerErrors"),
            AlarmPolicy(">", 0.05, period=60, evaluation_periods=5, datapoints_to_alarm=3, enabled=False),
            AlarmDocs(
                why="the share of requests failing with server errors is above the objective",
                first_step="check the AWS Health dashboard for Bedrock in the Region",
                caveat=RATE_CAVEAT),
        ),
        AlarmDef(
            "client_error_rate", "ClientErrorRate",
            _rate("InvocationClientErrors"),
            AlarmPolicy(">", 0.05, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="requests are rejected as client errors (validation, access denied, model not enabled): a code or "
                    "configuration defect",
                first_step="read the error code the application logs; check model access and the request format",
                caveat=RATE_CAVEAT),
        ),
        AlarmDef(
            "throttles", "Throttles",
            Metric(BEDROCK, "InvocationThrottles", "Sum"),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="requests are throttled by the model's quotas (not counted as Invocations or errors; the count depends "
                    "on the SDK's retries)",
                first_step="compare EstimatedTPMQuotaUsage with the quota; request a quota increase or use a cross-Region "
                    "inference profile",
                caveat=MODEL_ID),
        ),
        AlarmDef(
            "latency_p90", "LatencyP90",
            Metric(BEDROCK, "InvocationLatency", "p90", "ms"),
            AlarmPolicy(">", None, period=60, evaluation_periods=5, datapoints_to_alarm=5, severity="warning"),
            AlarmDocs(
                why="the slowest 10 % of requests take longer than the objective to the last token (grows with output length)",
                first_step="compare OutputTokenCount with earlier periods; for streaming prefer the TTFT alarm"),
        ),
        AlarmDef(
            "ttft_p90", "TimeToFirstTokenP90",
            Metric(BEDROCK, "TimeToFirstToken", "p90", "ms"),
            AlarmPolicy(">", None, period=60, evaluation_periods=5, datapoints_to_alarm=5, severity="warning"),
            AlarmDocs(
                why="the slowest 10 % of streaming requests wait longer than the objective for their first token",
                first_step="check input token counts and throttling; consider a cross-Region inference profile",
                caveat="Published for ConverseStream and InvokeModelWithResponseStream only."),
        ),
        AlarmDef(
            "tpm_quota_usage", "TPMQuotaUsage",
            Metric(BEDROCK, "EstimatedTPMQuotaUsage", "Sum", "fraction"),
            AlarmPolicy(">", 0.8, period=60, evaluation_periods=3, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="estimated tokens-per-minute consumption is near the account's quota for the model",
                first_step="request a quota increase in Service Quotas or spread load with a cross-Region inference profile",
                caveat="AWS: an approximation that does not reflect the reservation-based (max_tokens) consumption that drives "
                    "throttling; do not use it as the sole indicator (see the throttles alarm). [unverified] Sum over 60 s "
                    "as the per-minute value: compare with Service Quotas usage."),
        ),
        AlarmDef(
            "legacy_model", "LegacyModelInvocations",
            Metric(BEDROCK, "LegacyModelInvocations", "Sum"),
            AlarmPolicy(">=", 1, period=3600, severity="warning"),
            AlarmDocs(
                why="the application still calls a model in the Legacy lifecycle state",
                first_step="plan the migration to the model's successor before its end-of-life date"),
        ),
        AlarmDef(
            "log_delivery_failures", "LogDeliveryFailures",
            Metric(BEDROCK, "ModelInvocationLogsCloudWatchDeliveryFailure", "Sum", dimensions=()),
            AlarmPolicy(">=", 1, severity="warning", enabled=False),
            AlarmDocs(
                why="model invocation logs could not be delivered to CloudWatch Logs (missing audit records)",
                first_step="check the invocation-logging role and the log group in Bedrock's settings",
                caveat="Account-wide (no dimension: 'Across all model IDs'). [unverified] that the series has no dimension: "
                    + LIST.format(ns=BEDROCK, metric="ModelInvocationLogsCloudWatchDeliveryFailure") + "."),
        ),
        AlarmDef(
            "log_s3_delivery_failures", "LogS3DeliveryFailures",
            Metric(BEDROCK, "ModelInvocationLogsS3DeliveryFailure", "Sum", dimensions=()),
            AlarmPolicy(">=", 1, severity="warning", enabled=False),
            AlarmDocs(
                why="model invocation logs could not be delivered to S3 (missing audit records)",
                first_step="check the logging bucket's policy and KMS key",
                caveat="Account-wide (no dimension). [unverified] that the series has no dimension: "
                    + LIST.format(ns=BEDROCK, metric="ModelInvocationLogsS3DeliveryFailure") + "."),
        ),
        AlarmDef(
            "guardrail_server_errors", "GuardrailServerErrors",
            Metric(GUARDRAILS, "InvocationServerErrors", "Sum", dimensions=GUARDRAIL_DIMS),
            AlarmPolicy(">=", 1),
            AlarmDocs(
                why="the guardrail failed with server errors, so requests went unchecked or failed",
                first_step="check the AWS Health dashboard for Bedrock; confirm the guardrail version exists",
                caveat=GUARDRAIL_CAVEAT),
        ),
        AlarmDef(
            "guardrail_throttles", "GuardrailThrottles",
            Metric(GUARDRAILS, "InvocationThrottles", "Sum", dimensions=GUARDRAIL_DIMS),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="guardrail evaluations are throttled (text-unit quotas)",
                first_step="compare TextUnitCount with the guardrail quotas in Service Quotas",
                caveat=GUARDRAIL_CAVEAT),
        ),
        AlarmDef(
            "agent_server_errors", "AgentServerErrors",
            Metric(AGENTS, "InvocationServerErrors", "Sum", dimensions=AGENT_DIMS),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=3),
            AlarmDocs(
                why="agent invocations failed with server errors",
                first_step="read the agent's trace for a failing invocation",
                caveat=AGENT_CAVEAT),
        ),
        AlarmDef(
            "agent_throttles", "AgentThrottles",
            Metric(AGENTS, "InvocationThrottles", "Sum", dimensions=AGENT_DIMS),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="agent invocations are throttled",
                first_step="check the agent quotas in Service Quotas",
                caveat=AGENT_CAVEAT),
        ),
        AlarmDef(
            "agent_model_throttles", "AgentModelThrottles",
            Metric(AGENTS, "ModelInvocationThrottles", "Sum", dimensions=AGENT_DIMS),
            AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity="warning"),
            AlarmDocs(
                why="the agent's calls to its model are throttled",
                first_step="check the model's TPM/RPM quotas",
                caveat=AGENT_CAVEAT),
        ),
        AlarmDef(
            "agent_total_time_p90", "AgentTotalTimeP90",
            Metric(AGENTS, "TotalTime", "p90", "ms", dimensions=AGENT_DIMS),
            AlarmPolicy(">", None, period=60, evaluation_periods=5, datapoints_to_alarm=5, severity="warning"),
            AlarmDocs(
                why="the slowest 10 % of agent invocations exceed the objective",
                first_step="compare ModelLatency with TotalTime to see whether the model or the tools are slow",
                caveat=AGENT_CAVEAT),
        ),
    )

    def watched(self, o: BedrockModelOptions) -> str:
        if o.model_id is None:
            return f"Bedrock guardrail {o.guardrail_arn} version {o.guardrail_version}"
        return f"Bedrock model {o.model_id}"

    def targets(self, o: BedrockModelOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"ModelId": o.model_id})] if o.model_id is not None else []

    def alarm_targets(self, o: BedrockModelOptions, alarm: AlarmDef) -> list[AlarmTarget]:
        if alarm.metric.namespace == GUARDRAILS:
            return [AlarmTarget({"GuardrailArn": o.guardrail_arn, "GuardrailVersion": o.guardrail_version})]
        if alarm.metric.namespace == AGENTS:
            return [AlarmTarget({"Operation": o.agent_operation, "AgentAliasArn": o.agent_alias_arn, "ModelId": o.model_id})]
        return super().alarm_targets(o, alarm)

    def applies(self, o: BedrockModelOptions, alarm: AlarmDef) -> bool:
        needs = {"latency_p90": o.latency_p90_ms, "ttft_p90": o.ttft_p90_ms, "tpm_quota_usage": o.tpm_quota,
                 "agent_total_time_p90": o.agent_total_time_p90_ms}
        if alarm.key in needs:
            return needs[alarm.key] is not None and (alarm.metric.namespace != AGENTS or o.agent_alias_arn is not None)
        if alarm.metric.namespace == GUARDRAILS:
            return o.guardrail_arn is not None
        if alarm.metric.namespace == AGENTS:
            return o.agent_alias_arn is not None
        return o.model_id is not None or (alarm.key.startswith("log_") and alarm.metric.dimensions == ())

    def default_threshold(self, o: BedrockModelOptions, alarm: AlarmDef) -> float | None:
        derived = {"latency_p90": o.latency_p90_ms, "ttft_p90": o.ttft_p90_ms, "agent_total_time_p90": o.agent_total_time_p90_ms}
        return derived.get(alarm.key, alarm.policy.threshold) if alarm.key in derived else alarm.policy.threshold

    def metric_threshold(self, o: BedrockModelOptions, alarm: AlarmDef, value: float) -> float:
        if alarm.key == "tpm_quota_usage" and o.tpm_quota:
            return value * o.tpm_quota
        return value * alarm.metric.scale

    def check(self, o: BedrockModelOptions) -> list[tuple[str, str]]:
        if o.model_id is None and o.agent_alias_arn is not None:
            return [("agent_alias_arn", "give model_id too: agent metrics carry Operation, AgentAliasArn and ModelId")]
        if o.model_id is None and o.guardrail_arn is None:
            return [("model_id", "give model_id, or guardrail_arn and guardrail_version")]
        if (o.guardrail_arn is None) != (o.guardrail_version is None):
            given = "guardrail_arn" if o.guardrail_arn else "guardrail_version"
            return [(given, "give both guardrail_arn and guardrail_version: guardrail metrics carry both dimensions")]
        return []

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        if resource.type == "AWS::Bedrock::AgentAlias" and _agent_model(resource) is None:
            return ("its agent or the agent's FoundationModel is not in this template, and agent metrics need the ModelId: "
                    "add a bedrock_model with agent_alias_arn and model_id by hand")
        if resource.type == "AWS::Bedrock::Guardrail":
            versions = [r.logical for r in resource.app.views() if r.type == "AWS::Bedrock::GuardrailVersion"
                        and ref_target(r.properties.get("GuardrailIdentifier")) == resource.logical]
            if versions:
                return f"its version {', '.join(versions)} is watched (applications call a numbered version, not the DRAFT)"
        return None

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        if resource.type == "AWS::Bedrock::AgentAlias":
            model = _agent_model(resource)
            assert model is not None  # init_skip skipped the alias otherwise
            return [f"    model_id: {model[0]}   # FoundationModel of {model[1]} (ModelId of the agent metrics)",
                    "    # the agent's role needs cloudwatch:PutMetricData on namespace AWS/Bedrock/Agents, else no metrics",
                    ("    # [unverified] that ModelId is FoundationModel as written (an ID, ARN or profile): aws cloudwatch "
                     "list-metrics --namespace AWS/Bedrock/Agents --dimensions Name=AgentAliasArn,Value=<alias ARN>")]
        if resource.type in ("AWS::Bedrock::Guardrail", "AWS::Bedrock::GuardrailVersion"):
            version = "its working draft (DRAFT)" if resource.type == "AWS::Bedrock::Guardrail" else "this version"
            return [f"    # guardrail alarms on GuardrailArn + GuardrailVersion = {version}; add model_id to watch the model too"]
        return [("    # model_id: the profile's ID (InferenceProfileId, the ARN's last part): runtime metrics of an application "
                 "inference profile carry it in ModelId, not the ARN the application sends ([unverified] by AWS's pages: "
                 "aws cloudwatch list-metrics --namespace AWS/Bedrock --dimensions Name=ModelId,Value=<profile ID>)")]


def _agent_model(resource: TemplateResource) -> tuple[str, str] | None:
    """(model_id spec text, agent logical ID) for an agent alias whose agent is in the template."""
    agent = ref_target(resource.properties.get("AgentId"))
    found = resource.resource(agent)
    if found is None or found.type != "AWS::Bedrock::Agent":
        return None
    model = property_text({"Properties": found.properties}, "FoundationModel")
    if model is None or resource.unresolved(model):
        return None
    ref = re.fullmatch(r"\$\{([A-Za-z0-9]+)\}", model)
    # long forms, not !Ref/!Sub: JSON Schema tools (check-jsonschema, editors) cannot read YAML tags
    text = f"{{Ref: {ref.group(1)}}}" if ref else yaml_scalar(model) if "${" not in model else f"{{Fn::Sub: {yaml_scalar(model)}}}"
    return text, str(agent)
