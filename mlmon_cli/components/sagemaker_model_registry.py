"""Amazon SageMaker Model Registry: model package approval changes as an informational
notification (an EventBridge rule straight to the alert topic, no alarm, so no composite goes into
ALARM), and failed model packages as an alarm.

Events: https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
`SageMaker Model Package State Change` carries `detail.ModelPackageGroupName`,
`ModelPackageVersion`, `ModelApprovalStatus` (`Approved`, `Rejected`, `PendingManualApproval`) and
`ModelPackageStatus` (`Pending`, `InProgress`, `Completed`, `Failed`, `Deleting`). It fires on any
field update, so an already-approved package that gets new metadata re-sends its approval;
`only_approval_changes: true` adds `UpdatedModelPackageFields: [ModelApprovalStatus]` ([unverified]
that the field is always present: it is absent from AWS's 2023 sample, so a rule on it may match
nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from troposphere.events import InputTransformer, Rule, Target

from ..render import readable_template
from ..spec.model import doc
from . import component
from .base import (
    AlarmDef,
    AlarmTarget,
    Binding,
    BuildEnv,
    Component,
    EventDef,
    Inventory,
    TemplateResource,
    event_alarm,
)

DETAIL_TYPE = "SageMaker Model Package State Change"
PATHS = {"group": "$.detail.ModelPackageGroupName", "version": "$.detail.ModelPackageVersion",
         "approval": "$.detail.ModelApprovalStatus", "status": "$.detail.ModelPackageStatus", "region": "$.region"}
PACKAGE_STATE = EventDef("aws.sagemaker", DETAIL_TYPE, "sagemaker_model_package_state_change.txt.j2", dict(PATHS),
                         "ModelPackageStatus", ("Failed",))
APPROVAL_SUFFIX = "ApprovalChanged"


@dataclass(frozen=True)
class ModelRegistryOptions:
    model_package_group_name: str = field(metadata=doc("Name of the model package group (detail.ModelPackageGroupName)."))
    approval_notifications: bool = field(default=True, metadata=doc(
        "Send an informational message (no alarm) when a version is Approved or Rejected."))
    only_approval_changes: bool = field(default=False, metadata=doc(
        "Only when ModelApprovalStatus itself changed (UpdatedModelPackageFields; [unverified] always present)."))


def approval_pattern(o: ModelRegistryOptions) -> dict[str, Any]:
    detail: dict[str, Any] = {"ModelPackageGroupName": [o.model_package_group_name],
                              "ModelApprovalStatus": ["Approved", "Rejected"]}
    if o.only_approval_changes:
        detail["UpdatedModelPackageFields"] = ["ModelApprovalStatus"]
    return {"source": ["aws.sagemaker"], "detail-type": [DETAIL_TYPE], "detail": detail}


def approval_message(solution: str, component: str) -> str:
    return (f"[{solution}] Model package group <group> version <version> is now <approval> ({component}; "
            "informational, no alarm).\n"
            "Registry: https://<region>.console.aws.amazon.com/sagemaker/home?region=<region>#/model-registry\n"
            "If you did not expect this change, check who updated the package in CloudTrail (UpdateModelPackage).")


@component("sagemaker_model_registry")
class SageMakerModelRegistry(Component[ModelRegistryOptions]):
    Options = ModelRegistryOptions
    title = "Amazon SageMaker Model Registry package group"
    docs_url = "https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html"
    inventory = Inventory("SageMaker model package groups", "model_package_group_name", "sagemaker", "list_model_package_groups",
                          "ModelPackageGroupSummaryList", name="ModelPackageGroupName", arn="ModelPackageGroupArn")
    dimension_names = ()
    # No GetAtt returns the group name: it is the last part of the group's ARN.
    bindings: ClassVar[Mapping[str, Binding]] = {"AWS::SageMaker::ModelPackageGroup": Binding({"model_package_group_name": "${MlmonName%s}"},
                                                             name_in_arn=("ModelPackageGroupArn", "model-package-group/"))}
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::SageMaker::ModelPackage": "a model version: its model package group is watched (sagemaker_model_registry)",
    }
    alarms = (
        event_alarm("package_failed", "ModelPackageFailed", PACKAGE_STATE,
                    why="a model package version in the group ended Failed (EventBridge 'SageMaker Model Package State "
                        "Change', field ModelPackageStatus)",
                    first_step="run 'aws sagemaker describe-model-package' on the version and check its validation and "
                               "inference specification"),
    )

    def watched(self, o: ModelRegistryOptions) -> str:
        return f"SageMaker model package group {o.model_package_group_name}"

    def targets(self, o: ModelRegistryOptions) -> list[AlarmTarget]:
        return []

    def event_detail(self, o: ModelRegistryOptions, alarm: AlarmDef) -> dict[str, Any]:
        return {"ModelPackageGroupName": [o.model_package_group_name], "ModelPackageStatus": ["Failed"]}

    def resources(self, o: ModelRegistryOptions, env: BuildEnv) -> list[Any]:
        """The informational approval rule: a message to the alert topic, no alarm on it."""
        if not o.approval_notifications:
            return []
        return [Rule(
            env.logical_id(APPROVAL_SUFFIX, "Rule"),
            Name=env.rule_name(APPROVAL_SUFFIX),
            Description=f"{self.watched(o)}: approval changes -> {env.solution} alert topic (informational, no alarm)",
            EventPattern=approval_pattern(o),
            State="ENABLED",
            Targets=[Target(Id="AlertTopic", Arn=env.topic, InputTransformer=InputTransformer(
                InputPathsMap={k: PATHS[k] for k in ("group", "version", "approval", "region")},
                InputTemplate=readable_template(approval_message(env.solution, env.component))))],
        )]

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        return ["    # failed model packages alarm; approval changes are sent as information (no alarm)"]
