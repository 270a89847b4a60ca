"""Amazon API Gateway REST APIs: the share of requests answered 5XX, and p90 latency.

Metrics: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
(namespace AWS/ApiGateway; `5XXError` "Average statistic represents the 5XXError error rate",
unit Count; `Latency` in Milliseconds; dimension sets ApiName, ApiName+Stage and
ApiName+Method+Resource+Stage (the last with detailed metrics only). API Gateway drops non-ASCII
characters from the ApiName value, and uses the API ID when no ASCII character is left.)
Recommended alarms: CloudWatch "Best practice alarm recommendations", Amazon API Gateway:
`5XXError` on ApiName, Stage, Average > 0.05, 3 of 3 one-minute periods; `Latency` on ApiName,
Stage as a p90. [unverified] the recommended Latency threshold is not restated here: 2,500 ms
is mlmon's default, a latency target only the team knows (check your API's p90 with
`aws cloudwatch get-metric-statistics --namespace AWS/ApiGateway --metric-name Latency
--dimensions Name=ApiName,Value=NAME Name=Stage,Value=STAGE --extended-statistics p90 --period 60 ...`).

REST metrics are named by the API's *name*, not its ID: `Ref` returns the ID and no `GetAtt`
returns the name (AWS::ApiGateway::RestApi return values: RestApiId, RootResourceId). So a
`resource:` binding reads the name from the template: the `Name` property (literal, !Ref, !Sub),
else the OpenAPI `Body`'s `info.title` (the name of an API imported from a definition); for SAM
`AWS::Serverless::Api` the same from `Name` / `DefinitionBody`, and without either SAM generates a
definition titled with the stack name (samtranslator swagger.py `gen_skeleton`: `"title":
ref("AWS::StackName")`), so the name is `${AWS::StackName}`. A name in S3 (`BodyS3Location`,
`DefinitionUri`) cannot be known: `init` says so and asks for `api_name`.

ApiName alone or with Stage: with `stage` the alarms use ApiName+Stage (AWS's recommended set);
without it ApiName alone, which AWS publishes for all stages together. `init` writes `stage:` when
the template gives the API exactly one stage (AWS::ApiGateway::Stage or Deployment `StageName`,
SAM `StageName`). Two REST APIs with the same name in one account and Region share these series.
SAM's implicit API (`ServerlessRestApi`, made from functions' `Api` events) exists only after the
transform, so `--from-template` does not see it. `--from-stack` reads the name the same way from
the stack's processed template with the deployed parameter values and stack name (a stack's
physical ID is the API ID, not the name), so it watches SAM's implicit API too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..spec.app_template import mapping
from ..spec.kind_facts import Bound, TemplateResource
from ..spec.model import doc
from . import component
from ._api_gateway import error_rate_alarm, latency_alarm, literal, stage_lines, stage_texts
from .base import AlarmTarget, Binding, Component, Inventory, NameOption

REST_API, SAM_API = "AWS::ApiGateway::RestApi", "AWS::Serverless::Api"
NAME_UNKNOWN = ("and REST API metrics are named by the API's name (ApiName), not its ID: add the component by hand with "
                "`api_name: <the API's name>` (and `stage:`) instead of `resource:`")


@dataclass(frozen=True)
class ApiGatewayRestOptions:
    api_name: str = field(metadata=doc(
        "The REST API's name (the ApiName dimension; not its ID). Non-ASCII characters are dropped, as API Gateway does."))
    stage: str | None = field(default=None, metadata=doc(
        "The stage to watch (the Stage dimension); without it the alarms watch every stage of the API together."))


def rest_api_name(resource: TemplateResource) -> Bound | str:
    """The API's name as Fn::Sub text: `Name`, else the definition's info.title, else (SAM, no definition) the stack name."""
    props = resource.properties
    if "Name" in props:
        name = literal(props["Name"])
        return Bound({"api_name": name}) if name else f"its Name is not a literal, !Ref, !Sub or !GetAtt, {NAME_UNKNOWN}"
    body_key, s3_key = ("Body", "BodyS3Location") if resource.type == REST_API else ("DefinitionBody", "DefinitionUri")
    body = props.get(body_key)
    if isinstance(body, dict):
        title = literal(mapping(body.get("info")).get("title"))
        if title:
            return Bound({"api_name": title})
        return f"its {body_key} has no literal info.title (the API's name), {NAME_UNKNOWN}"
    if s3_key in props:
        return f"its name is the title of the definition in {s3_key}, outside this template, {NAME_UNKNOWN}"
    if resource.type == SAM_API:
        return Bound({"api_name": "${AWS::StackName}"})  # SAM's generated definition is titled with the stack name
    return f"it has no Name and no Body, {NAME_UNKNOWN}"


@component("api_gateway_rest")
class ApiGatewayRest(Component[ApiGatewayRestOptions]):
    Options = ApiGatewayRestOptions
    title = "Amazon API Gateway REST API"
    docs_url = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html"
    inventory = Inventory("API Gateway REST APIs", "api_name", "apigateway", "get_rest_apis", "items", name="name", physical="id",
                          arn_format="arn:{partition}:apigateway:{region}::/restapis/{id}")
    dimension_names = ("ApiName", "Stage")
    names: ClassVar[Mapping[str, NameOption]] = {
        "api_name": NameOption(r"[^\x00-\x1f\x7f]{1,1024}", "a REST API name: no control characters",
                               "the API's name (REST API metrics are named by name, not by ID or ARN)"),
        "stage": NameOption(r"[^\x00-\x1f\x7f]{1,128}", "a stage name: no control characters", "the stage name"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {  # Ref returns the API ID, no GetAtt the name: read from the properties
        REST_API: Binding({"api_name": "Name, else Body info.title"}, resolve=rest_api_name),
        SAM_API: Binding({"api_name": "Name, else DefinitionBody info.title, else the stack name"}, resolve=rest_api_name),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::ApiGateway::Deployment": "a deployment of a REST API: the API is watched per stage",
        "AWS::ApiGateway::Stage": "a stage of a REST API: the API's component watches it (`stage:`)",
        "AWS::ApiGateway::Method": "part of a REST API: the API is watched",
        "AWS::ApiGateway::Resource": "part of a REST API: the API is watched",
        "AWS::ApiGateway::Account": "account settings: nothing runs",
    }
    example = "- kind: api_gateway_rest\n  name: scoring-api\n  api_name: scoring-api\n  stage: prod\n"
    alarms = (error_rate_alarm("5XXError"), latency_alarm())

    def watched(self, o: ApiGatewayRestOptions) -> str:
        return f"REST API {o.api_name}" + (f" stage {o.stage}" if o.stage else "")

    def targets(self, o: ApiGatewayRestOptions) -> list[AlarmTarget]:
        dims = {"ApiName": ascii_name(o.api_name)}
        if o.stage:
            dims["Stage"] = o.stage
        return [AlarmTarget(dims)]

    def check(self, o: ApiGatewayRestOptions) -> list[tuple[Any, str]]:
        if "${" not in o.api_name and not any(ord(c) < 128 for c in o.api_name):
            return [("api_name", "API Gateway drops non-ASCII characters from ApiName and publishes an API whose name has "
                                 "none under its ID: give the API ID as api_name")]
        return []

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        read = rest_api_name(resource)
        return read if isinstance(read, str) else None

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        if resource.type == SAM_API:
            stage = resource.text("StageName")
            stages, unreadable = ([stage], False) if stage and not resource.unresolved(stage) else ([], True)
        else:
            stages, unreadable = stage_texts(resource, ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"), "RestApiId")
        return stage_lines(stages, unreadable, "dimension ApiName alone")


def ascii_name(name: str) -> str:
    """The ApiName dimension value: API Gateway drops non-ASCII characters (a name from the template is left as is)."""
    kept = "".join(c for c in name if ord(c) < 128)
    return kept if kept else name
