"""Amazon Bedrock knowledge bases (and their data sources): failed document ingestion, and for
managed knowledge bases the runtime errors and throttles of `Retrieve`.

Ingestion (every knowledge base type): AWS delivers a knowledge base's ingestion logs through
CloudWatch Logs vended-log delivery: an `AWS::Logs::DeliverySource` with the knowledge base's ARN
and `LogType: APPLICATION_LOGS`, an `AWS::Logs::DeliveryDestination` (here: a log group, kept a year
and encrypted with the solution's key, as AWS Control Tower requires) and an `AWS::Logs::Delivery`
joining them (bedrock/latest/userguide/knowledge-bases-logging). Each record is JSON with
`event_type`: `StartIngestionJob.StatusChanged` (the job: `event.ingestion_job_status` FAILED, ...)
or `StartIngestionJob.ResourceStatusChanged` (one document: `event.status` EMBEDDING_FAILED,
INDEXING_FAILED, DELETION_FAILED, METADATA_UPDATE_FAILED, GRAPH_ENTITY_EXTRACTION_FAILED, FAILED,
...; on managed knowledge bases `event.connector_document_status.Status` FAILED with
`event.error_message`: kb-managed-observability). A metric filter counts failed jobs and documents
into `mlmon/<solution>` `<component>-IngestionFailures`; its alarm is Sum >= 1 (missing data
notBreaching: the metric exists only when something failed). Every record carries
`event.data_source_id`, so data sources are watched through their knowledge base; the saved query
"Failed documents" lists them with the reason. RESOURCE_IGNORED (a file skipped, e.g. over the size
limit) is not a failure here: the query "Ignored documents" lists those.

Runtime metrics (`managed: true`, a knowledge base whose KnowledgeBaseConfiguration Type is
MANAGED): namespace `AWS/Bedrock/KnowledgeBases`, `ServerErrors`, `ClientErrors`, `Throttles`
(published only when they occur) and `Invocations`, dimensions `Operation` = `Retrieve` and
`KnowledgeBaseId` = `knowledge-base/<id>` (that prefix is part of the value). They are published
with the knowledge base's service role, which needs `cloudwatch:PutMetricData` on that namespace,
else nothing arrives (kb-managed-observability). AWS documents no runtime metric for other
knowledge base types and no EventBridge event for ingestion jobs.
https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-bases-logging.html
https://docs.aws.amazon.com/bedrock/latest/userguide/kb-managed-observability.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import naming
from ..limits import LOG_GROUP_NAME, LOG_GROUP_NAME_MAX
from ..spec.kind_facts import Binding, NameOption, TemplateResource, ref_target
from ..spec.model import doc
from . import component
from .base import AlarmDef, AlarmDocs, AlarmPolicy, AlarmTarget, BuildEnv, Component, ExtraAlarm, Metric
from .workflow import LOG_RETENTION_DAYS  # CT.CLOUDWATCH.PR.2: at least a year

NAMESPACE = "AWS/Bedrock/KnowledgeBases"
LOG_TYPE = "APPLICATION_LOGS"
KB_ID = re.compile(r"^[0-9a-zA-Z]{10}$")  # the API's knowledgeBaseId pattern
# Document and job states that mean data did not reach the knowledge base (knowledge-bases-logging;
# kb-managed-observability for connector_document_status).
FAILED_DOCUMENT = ("FAILED", "EMBEDDING_FAILED", "INDEXING_FAILED", "DELETION_FAILED", "METADATA_UPDATE_FAILED",
                   "GRAPH_ENTITY_EXTRACTION_FAILED", "INGESTION_JOB_FAILED")
FAILURE_PATTERN = "{ " + " || ".join(
    [f'$.event.status = "{s}"' for s in FAILED_DOCUMENT]
    + ['$.event.ingestion_job_status = "FAILED"', '$.event.connector_document_status.Status = "FAILED"']) + " }"
SOURCE = "AWS-documented log fields (knowledge-bases-logging, kb-managed-observability); threshold: mlmon default"
PUT_METRIC = ("Published with the knowledge base's service role: it needs cloudwatch:PutMetricData with "
              "cloudwatch:namespace = AWS/Bedrock/KnowledgeBases, or no metric arrives.")


@dataclass(frozen=True)
class KnowledgeBaseOptions:
    knowledge_base_id: str = field(metadata=doc(
        "The knowledge base's ID (10 letters and digits; GetAtt KnowledgeBaseId): the KnowledgeBaseId dimension is "
        "`knowledge-base/<id>`, the delivery source's ARN ends in it."))
    managed: bool = field(default=False, metadata=doc(
        "The knowledge base is a managed one (KnowledgeBaseConfiguration Type MANAGED): AWS publishes Retrieve runtime "
        "metrics for those only, so the ServerErrors, ClientErrors and Throttles alarms apply."))
    ingestion_logs: bool = field(default=True, metadata=doc(
        "Watch failed document ingestion: deliver the knowledge base's APPLICATION_LOGS to a new log group (vended-log "
        "delivery), count failures with a metric filter and alarm on them."))
    ingestion_log_group: str | None = field(default=None, metadata=doc(
        "A log group the knowledge base already delivers its APPLICATION_LOGS to: the metric filter watches it and no "
        "delivery is created (a resource has one delivery source per log type); it wins over `ingestion_logs`."))


def _runtime(key: str, suffix: str, metric: str, severity: str, why: str, first_step: str) -> AlarmDef:
    return AlarmDef(key, suffix, Metric(NAMESPACE, metric, "Sum"),
                    AlarmPolicy(">=", 1, period=60, evaluation_periods=5, datapoints_to_alarm=3, severity=severity),
                    AlarmDocs(why, first_step, caveat=PUT_METRIC))


@component("bedrock_knowledge_base")
class BedrockKnowledgeBase(Component[KnowledgeBaseOptions]):
    Options = KnowledgeBaseOptions
    title = "Amazon Bedrock knowledge base (ingestion failures; Retrieve errors of managed knowledge bases)"
    docs_url = "https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-bases-logging.html"
    dimension_names = ("Operation", "KnowledgeBaseId")
    log_groups_use_alert_key = True  # the ingestion log group is encrypted with the solution's key
    names: ClassVar[Mapping[str, NameOption]] = {
        "knowledge_base_id": NameOption(KB_ID.pattern.strip("^$"), "a knowledge base ID: 10 letters and digits",
                                        "the knowledge base ID (the part after ':knowledge-base/')"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {
        "AWS::Bedrock::KnowledgeBase": Binding({"knowledge_base_id": "${%s.KnowledgeBaseId}"}, physical="knowledge_base_id"),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::Bedrock::DataSource": "watched through its knowledge base's ingestion logs (each record names the data "
                                    "source; AWS documents no metric or EventBridge event for a data source)",
    }
    alarms = (
        _runtime("server_errors", "RetrieveServerErrors", "ServerErrors", "critical",
                 why="Retrieve requests failed with server errors (HTTP 5xx) in 3 of 5 minutes",
                 first_step="check the AWS Health dashboard for Bedrock in the Region; retry with backoff"),
        _runtime("throttles", "RetrieveThrottles", "Throttles", "warning",
                 why="Retrieve requests were throttled (HTTP 429; not counted as client or server errors)",
                 first_step="compare the request rate with the knowledge base quotas in Service Quotas"),
        _runtime("client_errors", "RetrieveClientErrors", "ClientErrors", "warning",
                 why="Retrieve requests were rejected as client errors (HTTP 4xx other than throttling): a code, "
                     "permission or configuration defect",
                 first_step="read the error code the application logs; check the caller's bedrock:Retrieve permission"),
    )

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        config = resource.properties.get("KnowledgeBaseConfiguration")
        kb_type = config.get("Type") if isinstance(config, dict) else None
        out = (["    managed: true   # Type MANAGED: Retrieve ServerErrors, ClientErrors and Throttles are published"]
               if kb_type == "MANAGED" else
               [f"    # Type {kb_type or 'not literal'}: AWS publishes runtime metrics for MANAGED knowledge bases only; "
                "failed ingestion is watched through its logs"])
        sources = [r.logical for r in resource.app.views() if r.type == "AWS::Logs::DeliverySource"
                   and ref_target(r.properties.get("ResourceArn")) == resource.logical]
        if sources:
            return [*out, f"    # {sources[0]} already delivers its logs: set ingestion_log_group to that delivery's log "
                          "group (a knowledge base has one delivery source per log type)", "    ingestion_logs: false"]
        return [*out, "    # ingestion logs: a vended-log delivery to a new log group, a metric filter and an alarm on failures"]

    def watched(self, o: KnowledgeBaseOptions) -> str:
        return f"Bedrock knowledge base {o.knowledge_base_id}"

    def targets(self, o: KnowledgeBaseOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"Operation": "Retrieve", "KnowledgeBaseId": f"knowledge-base/{o.knowledge_base_id}"})]

    def applies(self, o: KnowledgeBaseOptions, alarm: AlarmDef) -> bool:
        return o.managed  # every table alarm is a managed knowledge base's runtime metric

    def log_group(self, o: KnowledgeBaseOptions) -> str | None:
        if o.ingestion_log_group:
            return o.ingestion_log_group
        return delivery_log_group(o) if o.ingestion_logs else None

    def log_queries(self, o: KnowledgeBaseOptions) -> dict[str, str]:
        return {
            "Failed documents": (
                "fields @timestamp, event.data_source_id, event.ingestion_job_id, event.status, "
                "event.connector_document_status.Status, event.document_location.s3_location.uri, event.source_uri, "
                "event.status_reasons.0, event.error_message\n"
                "| filter event.connector_document_status.Status = \"FAILED\" or event.ingestion_job_status = \"FAILED\" "
                "or event.status like /FAILED/\n"
                "| sort @timestamp desc\n"
                "| limit 100"
            ),
            "Ignored documents": (
                "fields @timestamp, event.data_source_id, event.document_location.s3_location.uri, event.status_reasons.0\n"
                "| filter event.status = \"RESOURCE_IGNORED\"\n"
                "| sort @timestamp desc\n"
                "| limit 100"
            ),
        }

    def resources(self, o: KnowledgeBaseOptions, env: BuildEnv) -> list[Any]:
        from troposphere import GetAtt, Ref, Sub
        from troposphere.logs import Delivery, DeliveryDestination, DeliverySource, LogGroup, MetricFilter, MetricTransformation

        group = self.log_group(o)
        if group is None:
            return []
        out: list[Any] = []
        group_ref: Any = group
        if not o.ingestion_log_group:
            group_id = env.logical_id("IngestionLogs")
            source_id, destination_id = env.logical_id("IngestionLogSource"), env.logical_id("IngestionLogDestination")
            # Delivery names: at most 60 of [\w-], unique in the account and Region; one per knowledge base (it has
            # one delivery source per log type), so named after its ID: two stacks of one template never collide.
            name = _sub(f"mlmon-kb-{o.knowledge_base_id}-ingestion", Sub)
            out += [
                LogGroup(group_id, LogGroupName=_sub(group, Sub), RetentionInDays=LOG_RETENTION_DAYS,
                         KmsKeyId=GetAtt(naming.ALERTS_KEY_ID, "Arn")),
                DeliverySource(source_id, Name=name, LogType=LOG_TYPE, ResourceArn=Sub(knowledge_base_arn(o))),
                DeliveryDestination(destination_id, Name=name, DestinationResourceArn=Sub(
                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${" + group_id + "}")),
                Delivery(env.logical_id("IngestionLogDelivery"), DeliverySourceName=Ref(source_id),
                         DeliveryDestinationArn=GetAtt(destination_id, "Arn")),
            ]
            group_ref = Ref(group_id)
        out.append(MetricFilter(
            env.logical_id("IngestionFailuresFilter"),
            FilterName=naming.metric_filter_name(env.solution, env.component, "IngestionFailures"),
            LogGroupName=group_ref,
            FilterPattern=FAILURE_PATTERN,
            MetricTransformations=[MetricTransformation(MetricNamespace=naming.log_metric_namespace(env.solution),
                                                        MetricName=_metric_name(env), MetricValue="1")],
        ))
        return out

    def extra_alarms(self, o: KnowledgeBaseOptions, env: BuildEnv) -> list[ExtraAlarm]:
        group = self.log_group(o)
        if group is None:
            return []
        delivered = ("delivered by the vended-log delivery in this stack" if not o.ingestion_log_group
                     else "the knowledge base must already deliver its APPLICATION_LOGS there")
        alarm = AlarmDef(
            "ingestion_failures", "IngestionFailures",
            Metric(naming.log_metric_namespace(env.solution), _metric_name(env), "Sum", dimensions=()),
            AlarmPolicy(">=", 1, period=300, severity="warning"),
            AlarmDocs(
                why="documents or an ingestion job of the knowledge base failed (embedding, indexing, deletion, metadata "
                    "or graph extraction): retrieval answers from stale or missing data",
                first_step="run the saved query 'Failed documents' on the ingestion log group: it lists each document, "
                           "its data source and the reason",
                source=SOURCE,
                caveat=f"Metric filter on {group} ({delivered}); it counts failures logged after it was created."),
        )
        return [ExtraAlarm(alarm, {})]

    def check(self, o: KnowledgeBaseOptions) -> list[tuple[str, str]]:
        problems = []
        if "${" not in o.knowledge_base_id and not KB_ID.match(o.knowledge_base_id):
            problems.append(("knowledge_base_id", f"'{o.knowledge_base_id}' is not a knowledge base ID (10 letters and digits, "
                                                  "e.g. ABCDE12345; not its name or ARN)"))
        group = o.ingestion_log_group
        if group is not None and "${" not in group and not LOG_GROUP_NAME.fullmatch(group):
            problems.append(("ingestion_log_group", f"'{group[:40]}' is not a CloudWatch Logs group name (at most "
                                                    f"{LOG_GROUP_NAME_MAX} letters, digits and . - _ / #)"))
        return problems


def delivery_log_group(o: KnowledgeBaseOptions) -> str:
    """The log group mlmon creates for the knowledge base's ingestion logs (AWS's vended-logs prefix)."""
    return f"/aws/vendedlogs/bedrock/knowledge-base/{LOG_TYPE}/{o.knowledge_base_id}"


def knowledge_base_arn(o: KnowledgeBaseOptions) -> str:
    """Fn::Sub text of the knowledge base's ARN (arn:...:bedrock:<region>:<account>:knowledge-base/<id>)."""
    return f"arn:${{AWS::Partition}}:bedrock:${{AWS::Region}}:${{AWS::AccountId}}:knowledge-base/{o.knowledge_base_id}"


def _metric_name(env: BuildEnv) -> str:
    return naming.log_metric_name(env.component, "IngestionFailures")


def _sub(text: str, sub: Any) -> Any:
    return sub(text) if "${" in text else text
