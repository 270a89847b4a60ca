"""Amazon SageMaker HyperPod cluster and node health, from EventBridge (source `aws.sagemaker`).

Events: https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-cluster-events-reference.html
No HyperPod CloudWatch metric namespace is documented (observability is Prometheus/Grafana or
Container Insights), so every alarm here is an event rule:
- `SageMaker HyperPod Cluster State Change`, `detail.ClusterStatus` `Failed` or `RollingBack`;
- `SageMaker HyperPod Cluster Node Health Event`, `detail.HealthSummary.HealthStatus` `Unhealthy`
  (with `HealthStatusReason`, `RepairAction`, `Recommendation` and `InstanceId` in the message);
- `SageMaker HyperPod Cluster Event` at `detail.EventDetails.EventLevel` `Error` (AWS's own
  alerting pattern; only for clusters with `NodeProvisioningMode: Continuous`, and Info-level
  events are numerous, so never route all of them), filtered on the cluster by
  `detail.EventDetails.ClusterName` (a required field of the event); the message names the cluster,
  the instance group and instance, and quotes the event's own `Description`
  (sagemaker-hyperpod-cluster-events-reference; aws-ml-facts-3.md §0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.model import doc
from . import component
from .base import (
    AlarmDef,
    AlarmTarget,
    Binding,
    Component,
    EventDef,
    Inventory,
    TemplateResource,
    event_alarm,
)

SOURCE = "aws.sagemaker"
CLUSTER_STATE = EventDef(SOURCE, "SageMaker HyperPod Cluster State Change", "sagemaker_hyperpod_cluster_state_change.txt.j2",
                         {"cluster": "$.detail.ClusterName", "status": "$.detail.ClusterStatus", "region": "$.region"},
                         "ClusterStatus", ("Failed", "RollingBack"))
NODE_HEALTH = EventDef(SOURCE, "SageMaker HyperPod Cluster Node Health Event", "sagemaker_hyperpod_node_health.txt.j2",
                       {"cluster": "$.detail.ClusterName", "instance": "$.detail.InstanceId",
                        "status": "$.detail.HealthSummary.HealthStatus", "reason": "$.detail.HealthSummary.HealthStatusReason",
                        "repair": "$.detail.HealthSummary.RepairAction",
                        "recommendation": "$.detail.HealthSummary.Recommendation", "region": "$.region"},
                       "HealthSummary.HealthStatus", ("Unhealthy",))
CLUSTER_EVENT = EventDef(SOURCE, "SageMaker HyperPod Cluster Event", "sagemaker_hyperpod_cluster_event.txt.j2",
                         {"cluster": "$.detail.EventDetails.ClusterName", "status": "$.detail.EventDetails.EventLevel",
                          "description": "$.detail.EventDetails.Description",
                          "group": "$.detail.EventDetails.InstanceGroupName",
                          "instance": "$.detail.EventDetails.InstanceId", "region": "$.region"},
                         "EventDetails.EventLevel", ("Error",))


@dataclass(frozen=True)
class HyperPodOptions:
    cluster_name: str = field(metadata=doc("Name of the HyperPod cluster (detail.ClusterName filter)."))
    continuous_provisioning: bool = field(default=False, metadata=doc(
        "The cluster uses NodeProvisioningMode Continuous: adds the Error-level cluster-event rule (the only mode that "
        "emits 'SageMaker HyperPod Cluster Event')."))


@component("sagemaker_hyperpod")
class SageMakerHyperPod(Component[HyperPodOptions]):
    Options = HyperPodOptions
    title = "Amazon SageMaker HyperPod cluster"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod-cluster-events-reference.html"
    inventory = Inventory("SageMaker HyperPod clusters", "cluster_name", "sagemaker", "list_clusters", "ClusterSummaries", name="ClusterName",
                          arn="ClusterArn")
    dimension_names = ()
    # A cluster's ARN ends in its ID, not its name: the events filter on the ClusterName property.
    bindings: ClassVar[Mapping[str, Binding]] = {"AWS::SageMaker::Cluster": Binding({"cluster_name": "@ClusterName"})}
    alarms = (
        event_alarm("cluster_failed", "ClusterFailed", CLUSTER_STATE,
                    why="the HyperPod cluster entered Failed or RollingBack (EventBridge 'SageMaker HyperPod Cluster State "
                        "Change', field ClusterStatus)",
                    first_step="run 'aws sagemaker describe-cluster' and read FailureMessage and the instance groups' status"),
        event_alarm("node_unhealthy", "NodeUnhealthy", NODE_HEALTH,
                    why="the Health Monitoring Agent marked a node Unhealthy (EventBridge 'SageMaker HyperPod Cluster Node "
                        "Health Event', field HealthSummary.HealthStatus)",
                    first_step="read HealthStatusReason and Recommendation in the message; replace or reboot the node",
                    severity="warning",
                    caveat="[unverified] which HealthStatus value a node returning to health carries; only Unhealthy is "
                           "matched."),
        event_alarm("cluster_error_event", "ClusterErrorEvent", CLUSTER_EVENT,
                    why="HyperPod reported an Error-level cluster event (provisioning, scaling, patching)",
                    first_step="list the cluster's events with 'aws sagemaker list-cluster-events' and read the failure",
                    caveat="Clusters with NodeProvisioningMode Continuous only (the only mode that sends these events); "
                           "filtered on detail.EventDetails.ClusterName."),
    )

    def watched(self, o: HyperPodOptions) -> str:
        return f"SageMaker HyperPod cluster {o.cluster_name}"

    def targets(self, o: HyperPodOptions) -> list[AlarmTarget]:
        return []

    def applies(self, o: HyperPodOptions, alarm: AlarmDef) -> bool:
        return alarm.key != "cluster_error_event" or o.continuous_provisioning

    def event_detail(self, o: HyperPodOptions, alarm: AlarmDef) -> dict[str, Any]:
        if alarm.key == "cluster_failed":
            return {"ClusterName": [o.cluster_name], "ClusterStatus": ["Failed", "RollingBack"]}
        if alarm.key == "node_unhealthy":
            return {"ClusterName": [o.cluster_name], "HealthSummary": {"HealthStatus": ["Unhealthy"]}}
        return {"EventDetails": {"ClusterName": [o.cluster_name], "EventLevel": ["Error"]}}

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        cluster = resource.text("ClusterName")
        if cluster is None:
            return ("no literal, !Ref or !Sub ClusterName, and the HyperPod events name the cluster: set ClusterName "
                    "(the cluster's ARN ends in its ID, not its name)")
        if resource.unresolved(cluster):
            return f"its ClusterName refers to {', '.join(resource.unresolved(cluster))}, which this template does not declare"
        return None

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        if resource.properties.get("NodeProvisioningMode") == "Continuous":
            return ["    continuous_provisioning: true   # NodeProvisioningMode Continuous: Error-level cluster events too"]
        return ["    # no NodeProvisioningMode Continuous: cluster state and node health events only"]
