"""Amazon API Gateway HTTP APIs: the share of requests answered 5xx, and p90 latency.

Metrics: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
(namespace AWS/ApiGateway; metric names `4xx`, `5xx` (lowercase, unlike REST's `5XXError`),
`Count`, `IntegrationLatency`, `Latency`, `DataProcessed`; dimension sets ApiId, ApiId+Stage and
ApiId+Method+Resource+Stage (detailed metrics only)). `Ref` of AWS::ApiGatewayV2::Api and of SAM
AWS::Serverless::HttpApi returns the API ID, the ApiId dimension. [unverified] that `5xx` is 1 or
0 per request so its Average is the error rate, as the REST page states for `5XXError` (the HTTP
page does not say): `aws cloudwatch get-metric-statistics --namespace AWS/ApiGateway --metric-name
5xx --dimensions Name=ApiId,Value=ID --statistics Average Sum SampleCount --period 60 ...` shows
Average = Sum / SampleCount <= 1. The thresholds follow the REST API's recommended alarms
(CloudWatch "Best practice alarm recommendations" lists REST APIs only).

Without `stage` the alarms use ApiId alone (every stage, including `$default`); `init` writes
`stage:` when the template gives the API exactly one named stage. WebSocket APIs (ProtocolType
WEBSOCKET) publish other metrics (ConnectCount, MessageCount, ExecutionError, ...) and are not watched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ..spec.model import doc
from . import component
from ._api_gateway import error_rate_alarm, latency_alarm, stage_lines, stage_texts
from .base import AlarmTarget, Binding, Component, Inventory, NameOption, TemplateResource

HTTP_API, SAM_HTTP_API = "AWS::ApiGatewayV2::Api", "AWS::Serverless::HttpApi"
RATE_CAVEAT = ("[unverified] the HTTP API page does not say that 5xx's Average is a rate (the REST page does for 5XXError): "
               "check with 'aws cloudwatch get-metric-statistics --namespace AWS/ApiGateway --metric-name 5xx --dimensions "
               "Name=ApiId,Value=ID --statistics Average Sum SampleCount --period 60' (Average = Sum/SampleCount).")


@dataclass(frozen=True)
class ApiGatewayHttpOptions:
    api_id: str = field(metadata=doc("The HTTP API's ID (the ApiId dimension), e.g. a1b2c3d4e5."))
    stage: str | None = field(default=None, metadata=doc(
        "The stage to watch (the Stage dimension); without it the alarms watch every stage of the API together."))


@component("api_gateway_http")
class ApiGatewayHttp(Component[ApiGatewayHttpOptions]):
    Options = ApiGatewayHttpOptions
    title = "Amazon API Gateway HTTP API"
    docs_url = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html"
    inventory = Inventory("API Gateway HTTP APIs", "api_id", "apigatewayv2", "get_apis", "Items", name="ApiId",
                          arn_format="arn:{partition}:apigateway:{region}::/apis/{ApiId}", where=(("ProtocolType", "HTTP"),))
    dimension_names = ("ApiId", "Stage")
    names: ClassVar[Mapping[str, NameOption]] = {
        "api_id": NameOption(r"[a-z0-9]{1,64}", "an API Gateway API ID: lowercase letters and digits, e.g. a1b2c3d4e5",
                             "the API ID (the part after ':/apis/')"),
        "stage": NameOption(r"[^\x00-\x1f\x7f]{1,128}", "a stage name: no control characters", "the stage name"),
    }
    bindings: ClassVar[Mapping[str, Binding]] = {  # Ref returns the API ID; a stack's physical ID is the API ID
        HTTP_API: Binding({"api_id": "${%s}"}, physical="api_id"),
        SAM_HTTP_API: Binding({"api_id": "${%s}"}),
    }
    not_watched: ClassVar[Mapping[str, str]] = {
        "AWS::ApiGatewayV2::Stage": "a stage of an API: the API's component watches it (`stage:`)",
        "AWS::ApiGatewayV2::Route": "part of an API: the API is watched",
        "AWS::ApiGatewayV2::Integration": "part of an API: the API is watched",
        "AWS::ApiGatewayV2::Deployment": "a deployment of an API: the API is watched",
    }
    example = "- kind: api_gateway_http\n  name: scoring-http-api\n  api_id: a1b2c3d4e5\n  stage: prod\n"
    alarms = (error_rate_alarm("5xx", RATE_CAVEAT), latency_alarm())

    def watched(self, o: ApiGatewayHttpOptions) -> str:
        return f"HTTP API {o.api_id}" + (f" stage {o.stage}" if o.stage else "")

    def targets(self, o: ApiGatewayHttpOptions) -> list[AlarmTarget]:
        dims = {"ApiId": o.api_id}
        if o.stage:
            dims["Stage"] = o.stage
        return [AlarmTarget(dims)]

    @classmethod
    def init_skip(cls, resource: TemplateResource) -> str | None:
        if resource.type == HTTP_API and resource.properties.get("ProtocolType") == "WEBSOCKET":
            return ("a WebSocket API: it publishes connection and message metrics (ConnectCount, MessageCount, "
                    "ExecutionError), not 5xx and Latency; mlmon has no WebSocket kind yet")
        return None

    @classmethod
    def init_lines(cls, resource: TemplateResource) -> list[str]:
        if resource.type == SAM_HTTP_API:
            stage = resource.text("StageName")  # SAM's default stage is $default
            stages, unreadable = ([stage], False) if stage and not resource.unresolved(stage) else ([], "StageName" in resource.properties)
        else:
            stages, unreadable = stage_texts(resource, ("AWS::ApiGatewayV2::Stage",), "ApiId")
            stages = [s for s in stages if s != "$default"]
        return stage_lines(stages, unreadable, "dimension ApiId alone")
