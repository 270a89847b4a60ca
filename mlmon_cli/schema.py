"""`mlmon schema`: a JSON Schema (draft-07) of the spec, generated from the spec model itself.

Every key comes from the same dataclasses and metadata the converter validates against
(`spec/model.py`, each kind's `Options`, its alarm table), so editors (yaml-language-server,
IntelliJ) and CI (`check-jsonschema`) complete and check exactly what `mlmon validate` accepts in
shape: keys, types, enums, defaults, descriptions, and each kind's own options through
`if kind == X then ...`. Cross-field rules (an alarm window, thresholds in natural units, names
AWS would reject) stay with `mlmon validate`, which also reports them with file:line:col.

Nested structures a kind parses itself (workflow steps, Model Monitor blocks) are described as
lists or mappings with their documentation; their inner keys are checked by `mlmon validate`.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from .components import REGISTRY, load_all
from .components.base import Component
from .limits import MAX_FILTER_PATTERN, STATISTIC
from .spec.convert import COMPONENT_NAME, SOLUTION_NAME
from .spec.fields import SEVERITIES
from .spec.logs import BUILTIN_PATTERNS
from .spec.logs import KEYS as LOG_KEYS
from .spec.model import AlarmDefaults, AlarmOverride, Notifications, Route
from .spec.organization import ACCOUNT_ID, ORGANIZATION_ID, OU_ID, REGION

DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILE = "mlmon.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _description(f: dataclasses.Field) -> str:
    text = str(f.metadata.get("doc", ""))
    return f"{text} ({f.metadata['unit']})" if "unit" in f.metadata else text


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value if isinstance(value, (str, int, float, bool)) else None


def type_schema(hint: Any) -> dict[str, Any]:
    """JSON Schema of a type hint as the converter reads it (Optional also takes null)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        schema = type_schema(inner[0])
        if "type" in schema and isinstance(schema["type"], str):
            return {**schema, "type": [schema["type"], "null"]}
        return {"anyOf": [schema, {"type": "null"}]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return dataclass_schema(hint)
    if origin is tuple:
        return {"type": "array", "items": type_schema(typing.get_args(hint)[0])}
    if hint is float:
        return {"type": "number"}
    return {"type": _SCALARS.get(hint, "string")}


def field_schema(f: dataclasses.Field, hint: Any) -> dict[str, Any]:
    """One key: type, enum, bounds, default and description from the field's metadata."""
    meta = f.metadata
    if "parse" in meta:  # a structure the kind parses itself
        nested = _nested_schemas().get(meta["parse"])
        schema: dict[str, Any] = nested() if nested else {
            "type": "array" if str(meta.get("type", "")).startswith("list") else "object"}
    else:
        schema = type_schema(hint)
    if "choices" in meta:
        schema["enum"] = list(meta["choices"]) + ([None] if "null" in schema.get("type", ()) else [])
    for key in ("minimum", "maximum"):
        if key in meta:
            schema[key] = meta[key]
    if f.default is not dataclasses.MISSING and _json_default(f.default) is not None:
        schema["default"] = _json_default(f.default)
    description = _description(f)
    if description:
        schema["description"] = description
    if f.name == "statistic":
        schema["pattern"] = STATISTIC.pattern
    return schema


def _nested_schemas() -> dict[Any, Any]:
    """Schemas of the nested structures a kind parses itself, keyed by its parse function."""
    from .components import _model_monitor as monitor

    return {monitor.parse_data_quality: lambda: _monitor_schema("data"),
            monitor.parse_model_quality: lambda: _monitor_schema("model")}


def _monitor_schema(kind: str) -> dict[str, Any]:
    """`data_quality` / `model_quality` of a sagemaker_endpoint (components/_model_monitor.py)."""
    from .components import _model_monitor as monitor

    entries = "features" if kind == "data" else "metrics"
    entry: dict[str, Any]
    if kind == "data":
        feature = dataclass_schema(monitor._Feature)
        feature["required"] = ["threshold"]
        entry = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1, "description": "Drift threshold (0 to 1)."}, feature]}
    else:
        entry = dataclass_schema(monitor._Metric)
        entry["description"] = "Exactly one of `min` (floor) or `max` (ceiling), plus optional settings."
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["schedule_name", entries],
        "properties": {
            "schedule_name": {"type": "string", "description": "The Model Monitor monitoring schedule."},
            entries: {"type": "object", "minProperties": 1, "additionalProperties": entry},
            **dataclass_schema(monitor._Settings)["properties"],
            "namespace": {"type": "string", "maxLength": 255, "description": "Override the metric namespace."},
            "dimensions": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"},
                           "description": "Override the whole dimension mapping."},
        },
    }


def dataclass_schema(cls: type, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly the dataclass's fields; fields without a default are required."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name not in skip]
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: field_schema(f, hints[f.name]) for f in fields},
    }
    required = [f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if required:
        schema["required"] = required
    doc = (cls.__doc__ or "").strip()
    if doc and not doc.startswith(cls.__name__ + "("):
        schema["description"] = doc
    return schema


def _common_component_keys() -> dict[str, Any]:
    pattern_item = {
        "anyOf": [
            {"enum": list(BUILTIN_PATTERNS), "description": "A built-in pattern: " + ", ".join(BUILTIN_PATTERNS) + "."},
            {"type": "object", "additionalProperties": False, "required": ["name"],
             "properties": {"name": {"type": "string"}, "pattern": {"type": "string", "maxLength": MAX_FILTER_PATTERN},
                            "severity": {"enum": list(SEVERITIES)}},
             "description": "A built-in name with another severity, or your own CloudWatch Logs filter pattern."},
        ]
    }
    keys = {
        "kind": {"enum": sorted(REGISTRY), "description": "The component kind (see `mlmon kinds`)."},
        "name": {"type": "string", "pattern": COMPONENT_NAME.pattern,
                 "description": "Unique in the spec; letters, digits, '-' and '_', at most 64 characters."},
        "description": {"type": "string", "description": "Written into the component's alarm descriptions."},
        "enabled": {"type": "boolean", "default": True, "description": "`false` leaves the component out."},
        "runbook_url": {"type": "string", "description": "Runbook written into every alarm description of the component."},
        "owner": {"type": "string", "description": "The team that owns the component: its `owner` tag (default: the spec's `owner`)."},
        "log_group": {"type": "string", "description": "The log group to read (default: the kind's own, where it has one)."},
        "log_patterns": {"type": "array", "items": pattern_item,
                         "description": "Metric filters with an alarm each; the log group must exist at deploy time."},
        "log_queries": {"type": "boolean", "default": True, "description": "Saved Logs Insights queries (kinds with a log group)."},
        "custom_alarms": {"type": "array", "items": {"type": "object"},
                          "description": "Alarms on any metric, metric-math expression or anomaly band (checked by `mlmon validate`)."},
        "resource": {"type": "string", "description": "Logical ID of the resource in `template` whose names fill this component's."},
    }
    assert set(LOG_KEYS) <= set(keys)
    return keys


def _alarms_schema(kind: type[Component]) -> dict[str, Any]:
    properties = {}
    for alarm in kind.alarms:
        description = f"{alarm.docs.why}. `false` disables it" + ("" if alarm.policy.enabled else " (off by default: `enabled: true` turns it on)")
        properties[alarm.key] = {"description": description, "anyOf": [{"type": "boolean"}, {"$ref": "#/definitions/alarm"}]}
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "description": "Alarm key -> overrides, or `false` to disable the alarm."}


CFN_VALUE = {
    "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
    "properties": {key: {"type": "string"} for key in ("Ref", "Fn::Sub", "Fn::GetAtt", "Fn::ImportValue")},
    "description": "A CloudFormation value in long form ({Ref: Param}, {Fn::Sub: ...}, {Fn::GetAtt: Res.Attr}, "
                   "{Fn::ImportValue: Export}); the short tags (!Ref ...) work too, but JSON Schema tools cannot read them.",
}


def _or_cfn_value(schema: dict[str, Any]) -> dict[str, Any]:
    """A free-text option also takes a CloudFormation value (spec/cfn_values.py converts it)."""
    kind = schema.get("type")
    if "enum" in schema or not (kind == "string" or (isinstance(kind, list) and "string" in kind)):
        return schema
    inner = {k: v for k, v in schema.items() if k != "description"}
    out: dict[str, Any] = {"anyOf": [inner, {"$ref": "#/definitions/cfn_value"}]}
    if "description" in schema:
        out["description"] = schema["description"]
    return out


def _component_schema() -> dict[str, Any]:
    common = _common_component_keys()
    branches = []
    for name in sorted(REGISTRY):
        kind = REGISTRY[name]
        options = dataclass_schema(kind.Options)
        properties = {**common, **{k: _or_cfn_value(v) for k, v in options["properties"].items()},
                      "kind": {"const": name}, "alarms": _alarms_schema(kind)}
        required = options.get("required", [])
        bound = {o for binding in kind.bindings.values() for o in binding.options}
        then: dict[str, Any] = {"properties": properties, "additionalProperties": False,
                                "required": ["kind", "name", *(r for r in required if r not in bound)]}
        if bound & set(required):  # `resource:` fills these from the template
            then["anyOf"] = [{"required": [r for r in required if r in bound]}, {"required": ["resource"]}]
        branches.append({"if": {"properties": {"kind": {"const": name}}, "required": ["kind"]}, "then": then})
    return {
        "type": "object",
        "required": ["kind", "name"],
        "properties": {"kind": common["kind"], "name": common["name"]},
        "allOf": branches,
        "description": "One watched AWS resource: `kind`, `name`, the kind's options and `alarms` overrides.",
    }


def _route_requirement() -> dict[str, Any]:
    keys = ("emails", "https_endpoints", "lambda_arns", "slack", "topic_arn")
    return {"anyOf": [{"required": [k]} for k in keys]}


def _organization_schema() -> dict[str, Any]:
    """`organization:` (spec/organization.py); `mlmon validate` checks the rest (known parameters, one permission model)."""
    ids = {"type": "array", "items": {"type": "string", "pattern": ACCOUNT_ID.pattern}}
    regions = {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": REGION.pattern}}
    target = {"type": "object", "additionalProperties": False, "required": ["regions"], "properties": {
        "accounts": ids, "regions": regions,
        "organizational_units": {"type": "array", "items": {"type": "string", "pattern": OU_ID.pattern}},
        "parameters": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}}}
    return {
        "type": "object", "additionalProperties": False, "required": ["central_account", "central_region", "notifications"],
        "description": "Many accounts and Regions: StackSet targets and the central account every member reports to.",
        "properties": {
            "central_account": {"type": "string", "pattern": ACCOUNT_ID.pattern},
            "central_region": {"type": "string", "pattern": REGION.pattern},
            "member_accounts": ids,
            "organization_id": {"type": "string", "pattern": ORGANIZATION_ID.pattern},
            "notifications": {"$ref": "#/definitions/route"},
            "targets": {"type": "array", "items": target},
        },
    }


def spec_schema() -> dict[str, Any]:
    """The whole spec schema (a plain dict; `json.dumps(..., sort_keys=True)` is deterministic)."""
    load_all()
    notifications = {**dataclass_schema(Notifications), **_route_requirement()}
    warning = notifications["properties"]["warning"]
    warning.update(_route_requirement())  # the warning route needs subscribers too (null is not a mapping)
    overlay = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "description": {"type": "string"},
            "notifications": {"$ref": "#/definitions/notifications"},
            "defaults": {"$ref": "#/definitions/defaults"},
            "components": {"type": "object", "additionalProperties": {"type": "object"},
                           "description": "Component name -> any of its keys to override (`enabled: false` drops it)."},
        },
        "description": "Overrides applied with `--env NAME`.",
    }
    return {
        "$schema": DRAFT,
        "title": "mlmon spec",
        "description": "An ML solution on AWS to monitor with mlmon. Generated by `mlmon schema`; `mlmon validate` checks the rest.",
        "type": "object",
        "additionalProperties": False,
        "required": ["solution", "notifications", "components"],
        "properties": {
            "solution": {"type": "string", "pattern": SOLUTION_NAME.pattern,
                         "description": "Names every resource (<solution>-<component>-<Alarm>); letters, digits and '-', at most 40."},
            "description": {"type": "string", "description": "The template's description."},
            "name_suffix": {"type": "string", "description": "Appended to every physical name (e.g. per environment)."},
            "owner": {"type": "string", "description": "The team that owns the solution: the `owner` tag of every alarm, composite and rule."},
            "template": {"type": "string", "description": "Your CloudFormation or SAM template: components may bind its resources."},
            "parameters": {"type": "object", "description": "Parameters the monitoring template declares (name -> default)."},
            "exclude": {"type": "array", "items": {"type": "string"},
                        "description": "Logical IDs of `template` resources not to watch; every other resource mlmon can watch is watched."},
            "notifications": {"$ref": "#/definitions/notifications"},
            "defaults": {"$ref": "#/definitions/defaults"},
            "components": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/component"}},
            "organization": _organization_schema(),
            "environments": {"type": "object", "additionalProperties": overlay,
                             "description": "Per-stage overrides: environments.<name> (see `--env`)."},
        },
        "definitions": {
            "notifications": notifications,
            "route": {**dataclass_schema(Route), **_route_requirement()},
            "defaults": dataclass_schema(AlarmDefaults),
            "alarm": dataclass_schema(AlarmOverride),
            "component": _component_schema(),
            "cfn_value": CFN_VALUE,
        },
    }


def schema_text() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
