"""AWS CodeBuild project failures: the FailedBuilds metric plus the build state-change event.

Metrics: https://docs.aws.amazon.com/codebuild/latest/userguide/monitoring-metrics.html
Events:  https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html
Event fields are hyphenated (`project-name`, `build-status`); the documented build states are
IN_PROGRESS, SUCCEEDED, FAILED and STOPPED; the API's `StatusType` also has TIMED_OUT and FAULT
(botocore), so the rule matches them too (an unmatched value is a failure nobody hears of).
Logs: `/aws/codebuild/<project>` (CodeBuild's default group; give `log_group` if the project logs elsewhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.model import doc
from . import component
from .base import (
    AlarmDef,
    AlarmDocs,
    AlarmPolicy,
    AlarmTarget,
    Binding,
    Component,
    EventDef,
    Inventory,
    Metric,
    NameOption,
    event_alarm,
)

NAMESPACE = "AWS/CodeBuild"

BUILD_STATE_CHANGE = EventDef(
    source="aws.codebuild",
    detail_type="CodeBuild Build State Change",
    status_field="build-status",
    failure_statuses=("FAILED", "FAULT", "TIMED_OUT", "STOPPED"),
    message_template="codebuild_state_change.txt.j2",
    input_paths={
        "project": "$.detail.project-name",
        "build": "$.detail.build-id",
        "status": "$.detail.build-status",
        "logs": "$.detail.additional-information.logs.deep-link",
        "region": "$.region",
    },
)


@dataclass(frozen=True)
class CodeBuildOptions:
    project_name: str = field(metadata=doc("Name of the existing CodeBuild project (ProjectName dimension and event filter)."))
    alert_on_stopped: bool = field(default=True, metadata=doc("Also treat STOPPED builds as failures."))


@component("codebuild")
class CodeBuild(Component[CodeBuildOptions]):
    Options = CodeBuildOptions
    title = "AWS CodeBuild project"
    docs_url = "https://docs.aws.amazon.com/codebuild/latest/userguide/monitoring-metrics.html"
    inventory = Inventory("CodeBuild projects", "project_name", "codebuild", "list_projects", "projects",
                          arn_format="arn:{partition}:codebuild:{region}:{account}:project/{name}")
    dimension_names = ("ProjectName",)
    names: ClassVar[Mapping[str, NameOption]] = {
        "project_name": NameOption(r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}", "a CodeBuild project name: 2 to 255 letters, digits, '-' and "
                                   "'_', starting with a letter or digit", "the project name (the part after ':project/')"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {  # Ref returns the project name
        "AWS::CodeBuild::Project": Binding({"project_name": "${%s}"}, physical="project_name"),
    }
    alarms = (
        event_alarm(
            "build_failed", "BuildFailed", BUILD_STATE_CHANGE,
            why="a build ended FAILED, FAULT, TIMED_OUT or STOPPED (EventBridge 'CodeBuild Build State Change', field "
                "build-status)",
            first_step="open the build's log (the message links it) and find the first failed phase and command",
            caveat="The event carries no failure summary (the reason is in the failed phase's context and the log). "
            "TIMED_OUT and FAULT are API StatusType values the event docs do not list; they are matched in case "
            "the event carries them, and FailedBuilds counts timeouts either way.",
        ),
        AlarmDef(
            "failed_builds", "FailedBuilds",
            Metric(NAMESPACE, "FailedBuilds", "Sum"),
            AlarmPolicy(">=", 1, period=300),
            AlarmDocs(
                why="builds failed because of a client error or a timeout (AWS/CodeBuild FailedBuilds)",
                first_step="open the project's build history and read the failed build's phase details and log"),
        ),
    )

    def watched(self, o: CodeBuildOptions) -> str:
        return f"CodeBuild project {o.project_name}"

    def targets(self, o: CodeBuildOptions) -> list[AlarmTarget]:
        return [AlarmTarget({"ProjectName": o.project_name})]

    def log_group(self, o: CodeBuildOptions) -> str | None:
        return f"/aws/codebuild/{o.project_name}"

    def event_detail(self, o: CodeBuildOptions, alarm: AlarmDef) -> dict[str, Any]:
        statuses = ["FAILED", "FAULT", "TIMED_OUT"] + (["STOPPED"] if o.alert_on_stopped else [])
        return {"project-name": [o.project_name], "build-status": statuses}
