"""CloudFormation values in a spec: the user's template, `resource:` bindings, `parameters:`,
and `!Ref` / `!Sub` / `!ImportValue` in name fields.

This pass runs on the located node tree before `convert`: it turns every CloudFormation value
into Fn::Sub text (`${Param}`, `${Resource.Attr}`, `${MlmonImportN}`) in a plain string node,
so the kinds keep working with strings (f-strings in names, patterns and descriptions), and the
core wraps any string holding such a token in `Fn::Sub` (or `Ref`/`GetAtt` when it is the whole
value). It also checks literal names: an ARN, a newline, `${` or a quoted "!Ref X" in a name
field is a located problem with a did-you-mean.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, Problem, SpecError
from ..limits import CFN_PARAMETER_NAME as PARAMETER_NAME
from .app_template import PSEUDO_PARAMETERS, AppTemplate, load_app_template
from .kind_facts import Binding, NameOption, TemplateResource, bindings_by_type, name_options, property_text
from .nodes import node_location

TOKEN = re.compile(r"\$\{([^}!][^}]*)\}")
_STR = "tag:yaml.org,2002:str"

# Spec-level options that hold an ARN (a kind's own name and ARN options are its `names`, see kind_facts.py).
ARN_FIELDS = ("topic_arn", "iam_role_arn")


@dataclass(frozen=True)
class CfnValues:
    """What the spec says about CloudFormation: its parameters, imports and the template it monitors."""

    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> Parameter properties
    imports: dict[str, Any] = field(default_factory=dict)  # Fn::Sub variable -> {"Fn::ImportValue": ...}
    app: AppTemplate | None = None
    resources: dict[str, str] = field(default_factory=dict)  # component name -> logical ID in `app`
    defaulted: list[tuple[str, str]] = field(default_factory=list)  # (logical ID, kind) watched by default, not in the spec
    excluded: tuple[str, ...] = ()  # the spec's `exclude:`

    @property
    def known_tokens(self) -> set[str]:
        names = set(self.parameters) | set(self.imports) | set(PSEUDO_PARAMETERS)
        if self.app is not None:
            names |= set(self.app.resources) | set(self.app.data.get("Parameters") or {})
        return names

    def condition_of(self, component: str) -> str | None:
        if self.app is None or component not in self.resources:
            return None
        resource = self.app.resource(self.resources[component])
        return resource.condition if resource is not None else None


def _value(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        return next(((k, v) for k, v in node.value if k.value == key), None)
    return None


def _str_node(text: str, like: yaml.Node) -> yaml.ScalarNode:
    return yaml.ScalarNode(_STR, text, start_mark=like.start_mark, end_mark=like.end_mark, style='"')


def resolve_cfn_values(root: yaml.Node, file: str, kinds: Mapping[str, Any], base: Path | None = None
                       ) -> tuple[yaml.Node, CfnValues | None, list[Problem]]:
    """Return the tree with `template`, `parameters`, `resource` keys removed and CloudFormation
    values turned into Fn::Sub text, what they declared (None when the spec uses none), and the
    problems found here (the caller reports them with the converter's). A literal `${` is left
    for the converter's substitution check. `kinds` (kind -> class) tell which options hold names
    and what a `resource:` binding of each CloudFormation type fills."""
    if not isinstance(root, yaml.MappingNode):
        return root, None, []
    problems: list[Problem] = []
    at = lambda node, path: node_location(node, file, path)  # noqa: E731
    parameters = _parameters(_value(root, "parameters"), file, problems)
    app = None
    template = _value(root, "template")
    if template is not None:
        _, node = template
        if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
            problems.append(Problem(at(node, "template"), "expected the path of your CloudFormation or SAM template"))
        else:
            shown = Path(node.value) if Path(node.value).is_absolute() else Path(file).parent / node.value
            path = shown if base is None or Path(node.value).is_absolute() else base / node.value
            try:
                app = load_app_template(path, str(shown))
            except SpecError as exc:
                if any(p.message == "file not found" for p in exc.problems):
                    problems.append(Problem(at(node, "template"), f"template file not found: {shown}"))
                else:
                    problems.extend(exc.problems)
    excluded = _exclude(_value(root, "exclude"), app, template is not None, file, problems)
    values = CfnValues(parameters=parameters, app=app, excluded=tuple(excluded))
    if app is not None and DEFAULT_COMPONENTS is not None:
        _watch_by_default(root, app, set(excluded), values, file)
    context = _Kinds(kinds)
    components = _value(root, "components")
    if components is not None and isinstance(components[1], yaml.SequenceNode):
        for index, item in enumerate(components[1].value):
            if isinstance(item, yaml.MappingNode):
                _component(item, f"components[{index}]", values, template is not None, file, problems, context)
    kept = [(k, v) for k, v in root.value if k.value not in ("template", "parameters", "exclude")]
    root = yaml.MappingNode(root.tag, kept, start_mark=root.start_mark, end_mark=root.end_mark)
    used = template is not None or parameters or values.imports or values.resources or _has_tokens(root)
    return root, (values if used else None), problems


# Watch by default (issue 19): given the app template, the resources the spec neither binds nor
# excludes, and the spec's component names, return `components:` YAML text for the unwatched ones
# and the (logical ID, kind) pairs added. Discovery is an edge (mlmon_cli.discover), so the CLI sets
# this; without it (library use) a spec watches exactly its components.
DefaultComponents = Callable[[AppTemplate, set[str], set[str]], tuple[str, list[tuple[str, str]]]]
DEFAULT_COMPONENTS: DefaultComponents | None = None


def _exclude(entry: tuple[yaml.Node, yaml.Node] | None, app: AppTemplate | None, has_template: bool, file: str,
             problems: list[Problem]) -> list[str]:
    """`exclude: [LogicalId, ...]`: resources of the template that are not watched by default."""
    if entry is None:
        return []
    key, node = entry
    if not has_template:
        problems.append(Problem(node_location(key, file, "exclude"),
                                "'exclude' needs the spec's 'template:' (it lists logical IDs of that template)"))
        return []
    if not isinstance(node, yaml.SequenceNode) or not all(isinstance(v, yaml.ScalarNode) for v in node.value):
        if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            problems.append(Problem(node_location(node, file, "exclude"), "expected a list of logical IDs of the template's resources"))
        return []
    out = []
    for index, item in enumerate(node.value):
        if app is not None and item.value not in app.resources:
            problems.append(Problem(node_location(item, file, f"exclude[{index}]"),
                                    f"no resource '{item.value}' in {app.file}{_did_you_mean(item.value, set(app.resources))}"))
            continue
        out.append(item.value)
    return out


def _watch_by_default(root: yaml.MappingNode, app: AppTemplate, excluded: set[str], values: CfnValues, file: str) -> None:
    """Append a component for every resource of `app` mlmon can watch that the spec does not bind or exclude."""
    components = _value(root, "components")
    if DEFAULT_COMPONENTS is None or components is None or not isinstance(components[1], yaml.SequenceNode):
        return
    bound, names = set(), set()
    for item in components[1].value:
        for key, value in item.value if isinstance(item, yaml.MappingNode) else ():
            if key.value == "resource" and isinstance(value, yaml.ScalarNode):
                bound.add(value.value)
            elif key.value == "name" and isinstance(value, yaml.ScalarNode):
                names.add(value.value)
            elif isinstance(value, yaml.ScalarNode) and value.tag in ("!Ref", "!GetAtt", "!Sub"):
                bound.update(t.split(".", 1)[0] for t in ([value.value] if value.tag != "!Sub" else TOKEN.findall(value.value)))
    text, added = DEFAULT_COMPONENTS(app, bound | excluded, names)
    if not added:
        return
    composed = yaml.compose(text, Loader=yaml.SafeLoader)
    assert composed is not None  # DEFAULT_COMPONENTS writes a `components:` mapping
    extra = _value(composed, "components")
    assert extra is not None and isinstance(extra[1], yaml.SequenceNode)
    components[1].value.extend(extra[1].value)
    values.defaulted.extend(added)


def _has_tokens(root: yaml.MappingNode) -> bool:
    components = _value(root, "components")
    if components is None or not isinstance(components[1], yaml.SequenceNode):
        return False
    return any(isinstance(v, yaml.ScalarNode) and getattr(v, "_mlmon_cfn", False)
               for item in components[1].value if isinstance(item, yaml.MappingNode) for _, v in item.value)


def _parameters(entry: tuple[yaml.Node, yaml.Node] | None, file: str, problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """`parameters: {Name: default}` or `{Name: {default: ..., description: ...}}` -> CloudFormation Parameters."""
    if entry is None:
        return {}
    node = entry[1]
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(node_location(node, file, "parameters"), "expected a mapping of parameter names to defaults"))
        return {}
    result: dict[str, dict[str, Any]] = {}
    for key, value in node.value:
        path = f"parameters.{key.value}"
        if not PARAMETER_NAME.match(str(key.value)):
            problems.append(Problem(node_location(key, file, path), "a CloudFormation parameter name uses only letters and digits"))
            continue
        props: dict[str, Any] = {"Type": "String"}
        if isinstance(value, yaml.ScalarNode):
            if value.value != "" and not value.tag.endswith(":null"):
                props["Default"] = value.value
        elif isinstance(value, yaml.MappingNode):
            for k, v in value.value:
                if k.value not in ("default", "description") or not isinstance(v, yaml.ScalarNode):
                    problems.append(Problem(node_location(k, file, f"{path}.{k.value}"),
                                            f"unknown key '{k.value}'; a parameter may have 'default' and 'description'"))
                    continue
                props["Default" if k.value == "default" else "Description"] = v.value
        else:
            problems.append(Problem(node_location(value, file, path), "expected a default value or {default, description}"))
            continue
        result[str(key.value)] = props
    return result


class _Kinds:
    """The kinds' facts this pass reads: bindings by CloudFormation type and name options by kind."""

    def __init__(self, kinds: Mapping[str, Any]):
        self.kinds = kinds
        self.bindings = bindings_by_type(kinds)
        self.any_names = name_options(kinds[k] for k in sorted(kinds))

    def names(self, kind: str | None) -> Mapping[str, NameOption]:
        """The name options of `kind`; of every kind when it is unknown (the converter reports that)."""
        cls = self.kinds.get(kind) if isinstance(kind, str) else None
        return (getattr(cls, "names", None) or {}) if cls is not None else self.any_names

    def bound_options(self, kind: str | None) -> list[str]:
        """The options the kind's first binding fills (stand-ins when a binding failed)."""
        cls = self.kinds.get(kind) if isinstance(kind, str) else None
        first = next(iter((getattr(cls, "bindings", None) or {}).values()), None)
        return list(first.options) if first is not None else []


def _kind_of(item: yaml.MappingNode) -> str | None:
    node = _value(item, "kind")
    return node[1].value if node is not None and isinstance(node[1], yaml.ScalarNode) else None


def _component(item: yaml.MappingNode, path: str, values: CfnValues, has_template: bool, file: str,
               problems: list[Problem], kinds: _Kinds) -> None:
    pairs = list(item.value)
    resource = _value(item, "resource")
    if resource is not None:
        pairs = [(k, v) for k, v in pairs if k.value != "resource"]
        bound = _bind(item, resource[1], f"{path}.resource", values, has_template, file, problems, kinds)
        if not bound:  # the binding's problem is reported: stand-ins keep "missing key" follow-ups away
            options = kinds.bound_options(_kind_of(item))
            bound = [(yaml.ScalarNode(_STR, o, start_mark=resource[1].start_mark, end_mark=resource[1].end_mark),
                      _cfn(_str_node("unbound", resource[1]))) for o in options if _value(item, o) is None]
        pairs.extend(bound)
    converted = []
    for key, value in pairs:
        if key.value in ("alarms", "kind", "name", "description", "runbook_url", "enabled"):
            converted.append((key, value))
            continue
        converted.append((key, _convert(value, f"{path}.{key.value}", str(key.value), values, file, problems,
                                        kinds.names(_kind_of(item)))))
    item.value[:] = converted


def _bind(item: yaml.MappingNode, node: yaml.Node, path: str, values: CfnValues, has_template: bool, file: str,
          problems: list[Problem], kinds: _Kinds) -> list[tuple[yaml.Node, yaml.Node]]:
    """`resource: LogicalId` -> the kind's name options as Fn::Sub text of that resource."""
    at = node_location(node, file, path)
    if not has_template:
        problems.append(Problem(at, "'resource' needs the spec's 'template:' (the CloudFormation template that declares it)"))
        return []
    if values.app is None:
        return []  # the template's own problem is reported
    if not isinstance(node, yaml.ScalarNode):
        problems.append(Problem(at, "expected the logical ID of a resource in the template"))
        return []
    logical = node.value
    resources = values.app.resources
    if logical not in resources:
        problems.append(Problem(at, f"no resource '{logical}' in {values.app.file}{_did_you_mean(logical, resources)}"))
        return []
    view = values.app.resource(logical)
    assert view is not None
    rtype = view.type
    kind = _kind_of(item)
    if view.problem and rtype in kinds.bindings:
        problems.append(Problem(values.app.location("Resources", logical), f"Resources.{logical}: {view.problem}"))
        return []
    if rtype not in kinds.bindings:
        problems.append(Problem(at, f"'{logical}' is a {rtype}, which mlmon cannot watch"))
        return []
    want, binding = kinds.bindings[rtype]
    options = binding.options
    if kind != want:
        problems.append(Problem(at, f"'{logical}' is a {rtype}: use kind '{want}', not '{kind}'"))
        return []
    for option in options:
        given = _value(item, option)
        if given is not None:
            problems.append(Problem(node_location(given[0], file, path.rsplit(".", 1)[0] + "." + option),
                                    f"give either 'resource' or '{option}', not both"))
            return []
    texts = _binding_texts(binding, logical, view, values, at, problems)
    if texts is None:
        return []
    if binding.name_in_arn is not None:
        attribute, marker = binding.name_in_arn
        values.imports[f"MlmonName{logical}"] = {"Fn::Select": [1, {"Fn::Split": [marker, {"Fn::GetAtt": [logical, attribute]}]}]}
    named = _value(item, "name")
    values.resources[str(named[1].value) if named else logical] = logical
    return [(yaml.ScalarNode(_STR, option, start_mark=node.start_mark, end_mark=node.end_mark), _cfn(_str_node(text, node)))
            for option, text in texts.items()]


def _binding_texts(binding: Binding, logical: str, view: Any, values: CfnValues, at: Location,
                   problems: list[Problem]) -> dict[str, str] | None:
    """Option -> Fn::Sub text a binding gives for this resource, or None with the problem reported."""
    assert values.app is not None
    if binding.resolve is not None:
        return _resolved(binding, logical, view, values, at, problems)
    texts: dict[str, str] = {}
    for option, text in binding.options.items():
        if text.startswith("@"):
            value = property_text({"Properties": view.properties}, text[1:])
            if value is not None and values.app.unresolved(value):
                problems.append(Problem(at, f"'{logical}' {text[1:]} refers to {', '.join(values.app.unresolved(value))}, "
                                            f"which {values.app.file} does not declare: fix it or give '{option}' instead"))
                return None
            if value is None:
                problems.append(Problem(at, f"'{logical}' has no literal, !Ref or !Sub {text[1:]}: give '{option}' "
                                            "instead of 'resource'"))
                return None
            texts[option] = value
        else:
            texts[option] = text.replace("%s", logical)
    return texts


def _resolved(binding: Binding, logical: str, view: Any, values: CfnValues, at: Location,
              problems: list[Problem]) -> dict[str, str] | None:
    """The options a `Binding.resolve` reads from the resource (its Fn::Sub variables join the
    spec's), or None with the problem reported when the template does not tell."""
    assert binding.resolve is not None and values.app is not None
    read = binding.resolve(TemplateResource(logical, view.type or "", view.properties, values.app))
    if isinstance(read, str):
        problems.append(Problem(at, f"'{logical}': {read}"))
        return None
    for option, text in read.options.items():
        bad = [t for t in values.app.unresolved(text) if t not in read.variables]
        if bad:
            problems.append(Problem(at, f"'{logical}' {option} refers to {', '.join(bad)}, "
                                        f"which {values.app.file} does not declare: fix it or give '{option}' instead"))
            return None
    values.imports.update(read.variables)
    return dict(read.options)


def _cfn(node: yaml.ScalarNode) -> yaml.ScalarNode:
    node._mlmon_cfn = True  # type: ignore[attr-defined]  # text is Fn::Sub syntax on purpose
    return node


def is_cfn_value(node: yaml.Node) -> bool:
    """A string node this pass made from a CloudFormation value: its `${...}` is meant."""
    return getattr(node, "_mlmon_cfn", False)


def _convert(node: yaml.Node, path: str, key: str, values: CfnValues, file: str, problems: list[Problem],
             names: Mapping[str, NameOption]) -> yaml.Node:
    """One option value: CloudFormation tags and {Ref: ...} forms -> Fn::Sub text; literal names checked."""
    at = node_location(node, file, path)
    tag = node.tag if node.tag.startswith("!") else None
    long_form = None
    if isinstance(node, yaml.MappingNode) and len(node.value) == 1 and str(node.value[0][0].value) in (
            "Ref", "Fn::Sub", "Fn::ImportValue", "Fn::GetAtt"):
        long_form = str(node.value[0][0].value)
        tag = {"Ref": "!Ref", "Fn::Sub": "!Sub", "Fn::ImportValue": "!ImportValue", "Fn::GetAtt": "!GetAtt"}[long_form]
        node = node.value[0][1]
    if tag is None:
        if (isinstance(node, yaml.ScalarNode) and not getattr(node, "_mlmon_cfn", False) and node.tag.endswith(":str")) or (
                isinstance(node, yaml.ScalarNode) and node.tag == "?"):
            _check_literal(node, key, at, problems, names.get(key))
        return node
    if getattr(node, "_mlmon_cfn", False):
        return node
    invalid = _cfn(_str_node("invalid", node)) if isinstance(node, yaml.ScalarNode) else node  # reported: never constructed
    if not isinstance(node, yaml.ScalarNode):
        problems.append(Problem(at, f"{tag} takes one string here (the list form is not supported in a spec)"))
        return _cfn(_str_node("invalid", node))
    text = node.value
    if tag == "!Ref":
        if text not in values.known_tokens:
            problems.append(Problem(at, f"!Ref {text}: no parameter '{text}' in the spec's 'parameters:'"
                                        f"{_did_you_mean(text, values.known_tokens)}"))
            return invalid
        return _cfn(_str_node("${" + text + "}", node))
    if tag == "!GetAtt":
        head = text.split(".", 1)[0]
        if values.app is None or head not in values.app.resources or "." not in text:
            problems.append(Problem(at, f"!GetAtt {text}: needs 'Resource.Attribute' of a resource in the spec's 'template:'"))
            return invalid
        return _cfn(_str_node("${" + text + "}", node))
    if tag == "!Sub":
        for token in TOKEN.findall(text):
            if token.split(".", 1)[0] not in values.known_tokens:
                problems.append(Problem(at, f"!Sub: '${{{token}}}' is not a parameter of the spec's 'parameters:'"
                                            f"{_did_you_mean(token, values.known_tokens)}"))
                return invalid
        return _cfn(_str_node(text, node))
    if tag == "!ImportValue":
        variable = f"MlmonImport{len(values.imports) + 1}"
        existing = next((k for k, v in values.imports.items() if v == {"Fn::ImportValue": text}), None)
        if existing is None:
            values.imports[variable] = {"Fn::ImportValue": text}
        return _cfn(_str_node("${%s}" % (existing or variable), node))
    problems.append(Problem(at, f"unknown tag {tag}: a name may be !Ref, !Sub, !GetAtt or !ImportValue"))
    return invalid


def _check_literal(node: yaml.ScalarNode, key: str, at: Location, problems: list[Problem], name: NameOption | None) -> None:
    """A literal name: ARN, newline, `${` or a quoted intrinsic is never what the user meant."""
    text = node.value
    if not (name is not None and name.is_name_field) and key not in ARN_FIELDS:
        return
    if "\n" in text or "\r" in text:
        problems.append(Problem(at, "a name cannot contain a line break"))
    elif re.match(r"^!(Ref|Sub|GetAtt|ImportValue)\b", text.strip()):
        problems.append(Problem(at, f"'{text}' is quoted text, not a CloudFormation value: write it without quotes"))
    elif name is not None and name.instead_of_arn and text.startswith("arn:"):
        instead = name.instead_of_arn
        hint = f"this is an ARN: use {instead}" if instead.startswith("`") else f"this is an ARN, not a name: give {instead}"
        problems.append(Problem(at, hint))


def _did_you_mean(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


__all__ = ["ARN_FIELDS", "Binding", "CfnValues", "Location", "property_text", "resolve_cfn_values"]
