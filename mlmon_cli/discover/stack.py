"""`mlmon init --from-stack`: a starter spec with the physical names of a deployed stack.

For teams that cannot edit the app template: the spec names each resource literally (a
separate monitoring stack). The stack's processed template (SAM already expanded) supplies the
same settings `--from-template` infers (Lambda timeout, endpoint type, Glue metrics, ...).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from ..aws.session import Aws, Target, aws_errors
from ..components import load_all
from ..schema import MODELINE
from ..spec.app_template import AppTemplate, parse_app_template
from ..spec.kind_facts import Binding, TemplateResource, bindings_by_type
from . import Discovered, _quote, component_name, init_lines, reason


def physical_bindings() -> dict[str, tuple[str, Binding]]:
    """Resource type -> (kind, binding) for the types a deployed stack names: by physical ID
    (`Binding.physical`), or by what the processed template tells (`Binding.resolve`, e.g. a REST
    API's name, which its physical ID, the API ID, is not)."""
    return {rtype: (kind, b) for rtype, (kind, b) in bindings_by_type(load_all()).items() if b.physical or b.resolve}


def deployed_values(stack: str, app: AppTemplate) -> AppTemplate:
    """The template with `Ref` to a parameter or AWS::StackName, and `Fn::Sub` of only those, replaced
    by the values the stack was deployed with (the parameters' Default: spec_from_stack sets them)."""
    values = {name: str(p["Default"]) for name, p in (app.data.get("Parameters") or {}).items()
              if isinstance(p, dict) and "Default" in p}
    values["AWS::StackName"] = stack

    def literal(value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str) and value["Ref"] in values:
            return values[value["Ref"]]
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Fn::Sub"), str):
            text = value["Fn::Sub"]
            if all(t in values for t in re.findall(r"\$\{([^}!]+)\}", text)):
                return re.sub(r"\$\{([^}!]+)\}", lambda m: values[m.group(1)], text).replace("${!", "${")
        if isinstance(value, dict):
            return {k: literal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [literal(v) for v in value]
        return value

    return replace(app, data={**app.data, "Resources": literal(app.data.get("Resources") or {})})


def spec_from_stack(stack: str, target: Target) -> tuple[Discovered, AppTemplate]:
    """Read the stack's resources, processed template and parameter values (an instance type given
    as a parameter is the deployed value). Raises AwsError when AWS refuses."""
    aws = Aws(target)
    cfn = aws.client("cloudformation")
    with aws_errors(f"list the resources of stack {stack}"):
        summaries: list[dict[str, Any]] = []
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
            summaries.extend(page["StackResourceSummaries"])
    with aws_errors(f"read the template of stack {stack}"):
        body = cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
    text = body if isinstance(body, str) else json.dumps(body)
    app = parse_app_template(text, f"stack {stack}")
    with aws_errors(f"read the parameters of stack {stack}"):
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    declared = app.data.get("Parameters") or {}
    for given in described.get("Parameters") or []:
        if isinstance(declared.get(given.get("ParameterKey")), dict) and "ParameterValue" in given:
            declared[given["ParameterKey"]]["Default"] = given["ParameterValue"]  # what the stack was deployed with
    return spec_from_resources(stack, summaries, app), app


def spec_from_resources(stack: str, summaries: list[dict[str, Any]], app: AppTemplate) -> Discovered:
    found = Discovered("")
    lines = [
        MODELINE,
        f"# mlmon spec written by `mlmon init --from-stack {stack}` (a separate monitoring stack): review it, then",
        "#   mlmon deploy THIS_FILE --stack-name " + f"{stack}-monitoring",
        "# Names are the stack's physical names today; if the stack replaces a resource, run init again.",
        f"solution: {_solution(stack)}",
        "notifications:",
        "  emails: [oncall@example.com]   # TODO: who hears about failures (each address confirms by email)",
        "components:",
    ]
    taken: set[str] = set()
    registry, physical_types = load_all(), physical_bindings()
    deployed = deployed_values(stack, app)
    for summary in summaries:
        logical, rtype, physical = summary["LogicalResourceId"], summary["ResourceType"], summary.get("PhysicalResourceId")
        if rtype not in physical_types or not physical:
            found.skipped.append((logical, rtype, reason(rtype) if rtype not in physical_types else "not created (no physical ID)"))
            continue
        kind, binding = physical_types[rtype]
        source = app if binding.physical else deployed  # names read from the template: with the deployed values
        view = source.resource(logical)
        read = TemplateResource(logical, rtype, view.properties if view else {}, source)
        named = _named_by_physical_id(binding, logical, rtype, physical) if binding.physical else _named_by_template(binding, read)
        why_not = registry[kind].init_skip(read) or (named if isinstance(named, str) else None) \
            or (_not_a_name(registry[kind], binding, physical) if binding.physical else None)
        if why_not:  # e.g. a DISABLED rule, a WebSocket API, a rule on a custom bus (its ID is not its name)
            found.skipped.append((logical, rtype, why_not))
            continue
        assert isinstance(named, list)
        lines.extend([f"  - kind: {kind}", f"    name: {component_name(logical, taken)}", *named, *init_lines(registry[kind], read)])
        found.watched.append(logical)
    if not found.watched:
        lines.append("  []  # nothing here mlmon can watch (see below)")
    if found.skipped:
        lines += ["", "# Not watched:", *(f"#   {logical} ({rtype}): {why}" for logical, rtype, why in found.skipped)]
    found.text = "\n".join(lines) + "\n"
    return found


def _named_by_physical_id(binding: Binding, logical: str, rtype: str, physical: str) -> list[str]:
    return [f"    {binding.physical}: {_quote(binding.physical_value(physical))}   # {logical} ({rtype})"]


def _named_by_template(binding: Binding, read: TemplateResource) -> list[str] | str:
    """The options `Binding.resolve` reads from the processed template, as literals, or why not."""
    assert binding.resolve is not None
    bound = binding.resolve(read)
    if isinstance(bound, str):
        return bound
    if any("${" in text for text in bound.options.values()):
        return "its name depends on a value the stack's template does not tell: add a component by hand"
    first = f"   # {read.logical} ({read.type}): from its template"
    return [f"    {option}: {_quote(text)}" + (first if i == 0 else "") for i, (option, text) in enumerate(bound.options.items())]


def _not_a_name(kind: Any, binding: Binding, physical: str) -> str | None:
    """Why a physical ID is not a valid value of the option it fills (its kind's name grammar), or None."""
    option = (getattr(kind, "names", None) or {}).get(binding.physical)
    problem = option.problem(binding.physical_value(physical)) if option is not None else ""
    return f"its physical ID {problem}: add a component by hand" if problem else None


def _solution(stack: str) -> str:
    name = re.sub(r"[^A-Za-z0-9-]+", "-", stack).strip("-")
    return (name if name[:1].isalpha() else "s-" + name)[:40].rstrip("-") or "stack"
