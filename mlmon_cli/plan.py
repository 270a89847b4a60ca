"""`mlmon plan`: what a generated template will create, who hears what, as data, Markdown or JSON.

Derived from the built templates only (a `BuildResult`: the parent template and its nested
stacks), never from the spec, so the plan describes exactly what `generate` and `deploy` write:

- one row per metric alarm and per EventBridge rule: its component, what it watches, the
  threshold in the spec's natural unit (the alarm's own description states it; the metric's
  unit is shown when they differ), the severity and who is notified;
- the alarm tree (composites down to alarms) and, for every alarm or rule that notifies, the
  topic and its subscribers, drawn as a Mermaid flowchart;
- the monthly bill (`mlmon_cli.core.cost.estimate`).

Pure: no files, clock or network. Raises nothing for a template mlmon built; a template of
unknown shape gives rows with what can be read ("?" otherwise).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from . import naming
from .alarm_tree import ancestors
from .core.cost import Bill, estimate

COMPOSITE = "AWS::CloudWatch::CompositeAlarm"
ALARM = "AWS::CloudWatch::Alarm"
RULE = "AWS::Events::Rule"
STACK = "AWS::CloudFormation::Stack"
SYMBOLS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
# The second line of every mlmon alarm description (core/build.py `_alarm_description`).
_ALARM_LINE = re.compile(
    r"^Alarm: (?P<statistic>\S+) of (?P<watch>.+?) (?P<cmp>>=|<=|>|<) (?P<threshold>.+?) in (?P<m>\d+) of (?P<n>\d+) "
    r"periods of (?P<period>\d+) s;",
    re.M,
)
_SEVERITY = re.compile(r"^\[(critical|warning)\]")
_CHILD = re.compile(r"\$\{([A-Za-z0-9]+)\.(Arn|Outputs\.([A-Za-z0-9]+))\}")
_SUFFIX = re.compile(r"-(Critical|Warning)$")

Key = tuple[str, str]  # (template: "" for the parent, else the nested stack's file stem; logical ID)


@dataclass(frozen=True)
class Recipient:
    protocol: str  # email, https, lambda, slack, topic (an existing topic whose subscribers are not in the template)
    endpoint: str


@dataclass(frozen=True)
class Topic:
    id: str  # the logical ID, or the ARN of an existing topic
    name: str
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class Row:
    """One alarm or rule as the plan table shows it."""

    type: str  # alarm | rule
    name: str
    component: str
    watches: str
    threshold: str  # natural units, e.g. ">= 1 in 1 of 1 x 600 s"; for a rule: what it matches
    severity: str
    notifies_via: tuple[str, ...]  # alarms whose SNS action fires when this one alarms (itself or composites above it)
    topics: tuple[str, ...]  # topic ids reached
    recipients: tuple[str, ...]  # "email a@b" ...


@dataclass(frozen=True)
class Target:
    """One `organization.targets` entry as the plan shows it."""

    where: tuple[str, ...]  # accounts, or OUs
    regions: tuple[str, ...]
    service_managed: bool
    parameters: tuple[tuple[str, str], ...]

    @property
    def instances(self) -> int | None:
        """Stack instances it makes; None for OUs (their accounts are known only at deploy time)."""
        return None if self.service_managed else len(self.where) * len(self.regions)


@dataclass(frozen=True)
class Deployment:
    """Where a spec with `organization:` runs, and what that costs a month."""

    central_account: str
    central_region: str
    targets: tuple[Target, ...]
    member_bill: float  # one member stack
    central_bill: float

    @property
    def instances(self) -> int | None:
        counts = [t.instances for t in self.targets]
        return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)

    @property
    def total(self) -> float | None:
        n = self.instances
        return None if n is None else round(n * self.member_bill + self.central_bill, 2)

    def to_dict(self) -> dict[str, Any]:
        return {"central_account": self.central_account, "central_region": self.central_region,
                "targets": [{"accounts" if not t.service_managed else "organizational_units": list(t.where),
                             "regions": list(t.regions), "parameters": dict(t.parameters), "instances": t.instances}
                            for t in self.targets],
                "instances": self.instances, "bill_per_instance": self.member_bill, "central_bill": self.central_bill,
                "total": self.total}

    def markdown(self) -> list[str]:
        out = ["## Deployment targets", "",
               f"Central account `{self.central_account}` ({self.central_region}): every member forwards its paging alarms "
               f"and job failures there (`mlmon deploy SPEC --central --stack-name NAME`, ${self.central_bill:,.2f} a month).", "",
               "| accounts / OUs | Regions | parameter overrides | instances | bill |", "|---|---|---|---|---|"]
        for t in self.targets:
            params = ", ".join(f"{k}={v}" for k, v in t.parameters) or "-"
            n = t.instances
            bill = f"${n * self.member_bill:,.2f}" if n is not None else f"${self.member_bill:,.2f} per account"
            out.append(f"| {', '.join(t.where)} | {', '.join(t.regions)} | {params} | {n if n is not None else 'every account of the OU'} "
                       f"| {bill} |")
        total = (f"**${self.total:,.2f} a month** in all ({self.instances} instances x ${self.member_bill:,.2f} + the central stack)"
                 if self.total is not None else f"${self.member_bill:,.2f} a month per instance, plus the central stack")
        return [*out, "", total, ""]


def deployment_of(spec: Any, member_bill: Bill) -> Deployment | None:
    """The plan's deployment section of a spec with `organization:` (None without)."""
    org = getattr(spec, "organization", None)
    if org is None:
        return None
    from types import SimpleNamespace

    from .core.pipeline import generate_central

    central = estimate(SimpleNamespace(template=generate_central(spec), nested={}, owners={}))
    targets = tuple(Target(t.accounts or t.organizational_units, t.regions, bool(t.organizational_units), t.parameters)
                    for t in org.targets)
    return Deployment(org.central_account, org.central_region, targets, member_bill.total, central.total)


@dataclass
class Plan:
    solution: str
    rows: list[Row]
    topics: list[Topic]
    tree: list[tuple[str, str]]  # (parent alarm name, child alarm name), top first
    composites: dict[str, tuple[str, ...]]  # composite alarm name -> topic ids it notifies
    bill: Bill | None = None  # None: priced elsewhere (a plan of bare templates)
    counts: dict[str, int] = field(default_factory=dict)
    deployment: Deployment | None = None  # a spec with `organization:`: StackSet targets and the central stack

    @property
    def silent(self) -> list[Row]:
        """Rows that reach nobody: no SNS action on them or any composite above, or topics without subscribers."""
        return [r for r in self.rows if r.type == "alarm" and not r.recipients]


def build_plan(result: Any) -> Plan:
    """The plan of a BuildResult (`template` plus `nested` troposphere Templates)."""
    templates = {"": result.template.to_dict()}
    templates.update({stem: t.to_dict() for stem, t in sorted(getattr(result, "nested", {}).items())})
    return plan_from_templates(templates, bill=estimate(result), owners=getattr(result, "owners", None))


def cfn_text(value: Any) -> Any:
    """A CloudFormation value shown as text: `Fn::Sub` text as written, `Ref` / `GetAtt` /
    `ImportValue` as `${...}` placeholders, `Fn::Join` joined; other values unchanged.

    Names and descriptions are `Fn::Sub` mappings when they come from the stack name, a
    parameter or a resource of the user's template; the plan shows them as the Sub text."""
    if isinstance(value, dict) and len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value):
        (fn, arg), = value.items()
        if fn == "Fn::Sub":
            text, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict) else (arg, {})
            if not isinstance(text, str):
                return json.dumps(value, sort_keys=True)
            for name, var in variables.items():
                shown = cfn_text(var)
                text = text.replace(f"${{{name}}}", shown if isinstance(shown, str) else f"${{{name}}}")
            return text
        if fn == "Ref" and isinstance(arg, str):
            return f"${{{arg}}}"
        if fn == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return "${" + ".".join(str(cfn_text(p)) for p in parts) + "}"
        if fn == "Fn::ImportValue":
            return f"${{ImportValue {cfn_text(arg)}}}"
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            return str(cfn_text(arg[0])).join(str(cfn_text(p)) for p in arg[1])
        return json.dumps(value, sort_keys=True)
    return value


# The properties the plan reads as text (names, descriptions, metric identity); others stay as written.
_TEXT_PROPS = ("AlarmName", "AlarmDescription", "Name", "TopicName", "Namespace", "MetricName", "Statistic",
               "ExtendedStatistic", "ComparisonOperator", "TreatMissingData", "Protocol", "SlackWorkspaceId", "SlackChannelId")


def _readable(res: Any) -> dict[str, Any]:
    """A resource whose name-like properties are text (see `cfn_text`), so any name form plans."""
    if not isinstance(res, dict):
        return {}
    props = res.get("Properties")
    if not isinstance(props, dict):
        return {**res, "Properties": {}}
    props = dict(props)
    for key in _TEXT_PROPS:
        if key in props:
            props[key] = cfn_text(props[key])
    if isinstance(props.get("Dimensions"), list):
        props["Dimensions"] = [{**d, "Value": cfn_text(d.get("Value"))} if isinstance(d, dict) else {} for d in props["Dimensions"]]
    if "ActionsEnabled" in props:  # a template may write the boolean as a string
        props["ActionsEnabled"] = props["ActionsEnabled"] not in (False, "false", "False")
    for key in ("AlarmActions", "Targets", "SnsTopicArns", "Metrics"):
        if key in props and not isinstance(props[key], list):
            props[key] = []  # a Fn::If or Ref to a list: nothing the plan can follow
    return {**res, "Properties": props}


def plan_from_templates(templates: dict[str, dict[str, Any]], bill: Any = None, owners: dict[str, str] | None = None) -> Plan:
    """The plan of template dicts by stem ("" is the parent; others are nested stacks by file stem).

    `owners` (logical ID -> component, from the build) names each alarm's component; without it
    the component is read from the composite hierarchy (which has no composite for a component
    whose only alarm notifies itself)."""
    templates = {stem: {**tpl, "Resources": {k: _readable(r) for k, r in (tpl.get("Resources") or {}).items()}}
                 for stem, tpl in templates.items()}
    parent = templates[""]
    resources: dict[Key, dict[str, Any]] = {
        (stem, logical): res for stem, tpl in templates.items() for logical, res in (tpl.get("Resources") or {}).items()
    }
    topics = _topics(parent)
    parameters = {name for tpl in templates.values() for name in (tpl.get("Parameters") or {})}  # a topic ARN given to the stack
    names = {key: (res.get("Properties") or {}).get("AlarmName", key[1]) for key, res in resources.items()
             if res.get("Type") in (ALARM, COMPOSITE)}
    parents, children = _hierarchy(resources, templates, _stack_stems(parent))
    solution = _solution(parent)
    component_of = _components(resources, parents, children, names, solution)
    alert_path = naming.alert_path_alarm_name(solution, "") + "-"
    for key, name in names.items():
        if owners and key[1] in owners:
            component_of[key] = owners[key[1]]
        elif owners and name.startswith(alert_path):
            component_of[key] = "alert-path"

    def actions(key: Key) -> list[str]:
        props = resources[key].get("Properties") or {}
        if props.get("ActionsEnabled") is False:
            return []
        return [t for t in (_topic_id(a) for a in props.get("AlarmActions") or []) if t and not _history(t)]

    rule_alarm = _rule_alarms(resources)
    rows: list[Row] = []
    for key, res in resources.items():
        props = res.get("Properties") or {}
        if res.get("Type") == ALARM:
            via = [k for k in [key, *ancestors(key, parents)] if actions(k)]
            reached = list(dict.fromkeys(t for k in via for t in actions(k)))
            rows.append(Row("alarm", names[key], component_of.get(key, "?"), *_watch(props), _severity(props, key, ancestors(key, parents), names),
                            tuple(names[k] for k in via), tuple(reached), _recipients(reached, topics)))
        elif res.get("Type") == RULE:
            reached = list(dict.fromkeys(t for t in (_topic_id(tg.get("Arn")) for tg in props.get("Targets") or [] if isinstance(tg, dict))
                                         if t and (t in topics or t in parameters or t.startswith("arn:"))))
            rule_name = props.get("Name") or f"${{{key[1]}}}"  # merged output: CloudFormation names the rule
            owner = rule_alarm.get(rule_name)
            if owners and key[1] not in owners and not owner and not reached:
                continue  # the app's own rule (a schedule, a trigger): not monitoring, nobody notified by it
            severity = _severity(resources[owner].get("Properties") or {}, owner, ancestors(owner, parents), names) if owner else "?"
            component = component_of.get(owner, "?") if owner else "?"
            if not owner and reached:  # an informational rule (e.g. model approval changes): a message, no alarm
                component = (owners or {}).get(key[1]) or _rule_component(rule_name, solution, set(component_of.values()))
                severity = "info"
            rows.append(Row("rule", rule_name, component,
                            _rule_watch(props), _rule_match(props), severity, (), tuple(reached), _recipients(reached, topics)))
    rows.sort(key=lambda r: (r.component, r.type, r.name))
    tree = sorted({(names[p], names[c]) for c, ps in parents.items() for p in ps})
    composites = {names[k]: tuple(actions(k)) for k, res in sorted(resources.items()) if res.get("Type") == COMPOSITE}
    used = {t for r in rows for t in r.topics} | {t for ts in composites.values() for t in ts}
    topic_list = [topics.get(t) or Topic(t, t.rsplit(":", 1)[-1], (Recipient("topic", t),)) for t in sorted(used)]
    counts = {"alarms": sum(r.type == "alarm" for r in rows), "rules": sum(r.type == "rule" for r in rows),
              "composites": len(composites), "topics": len(topic_list)}
    return Plan(solution, rows, topic_list, tree, composites, bill, counts)


def _hierarchy(resources: dict[Key, dict[str, Any]], templates: dict[str, dict[str, Any]],
               stems: dict[str, str]) -> tuple[dict[Key, list[Key]], dict[Key, list[Key]]]:
    """(parents, children) of the composite alarm tree, across nested stacks."""
    parents: dict[Key, list[Key]] = {}
    children: dict[Key, list[Key]] = {}
    for key, res in resources.items():
        if res.get("Type") != COMPOSITE:
            continue
        for child in _children(key, res, templates, stems):
            if child in resources:
                parents.setdefault(child, []).append(key)
                children.setdefault(key, []).append(child)
    return parents, children


def _rule_alarms(resources: dict[Key, dict[str, Any]]) -> dict[str, Key]:
    """Rule Name -> the TriggeredRules alarm that counts its matches."""
    out: dict[str, Key] = {}
    for key, res in resources.items():
        props = res.get("Properties") or {}
        if res.get("Type") == ALARM and props.get("MetricName") == "TriggeredRules":
            for dim in props.get("Dimensions") or []:
                if dim.get("Name") == "RuleName" and isinstance(dim.get("Value"), str):
                    out[dim["Value"]] = key
    return out


# --------------------------------------------------------------------------- reading templates
def _solution(parent: dict[str, Any]) -> str:
    resources = parent.get("Resources") or {}
    history = (resources.get(naming.HISTORY_TOPIC_ID) or {}).get("Properties", {}).get("TopicName", "")
    if isinstance(history, str) and history.endswith(f"-{naming.HISTORY_TOPIC_SUFFIX}"):
        return history.removesuffix(f"-{naming.HISTORY_TOPIC_SUFFIX}")
    top = resources.get(naming.SOLUTION_COMPOSITE_ID, {}).get("Properties", {}).get("AlarmName", "")
    return top.removesuffix(f"-{naming.SOLUTION_COMPOSITE_SUFFIX}") if top else "?"


def _stack_stems(parent: dict[str, Any]) -> dict[str, str]:
    """Nested Stack logical ID -> its template's file stem (stacks/<stem>.yaml)."""
    out = {}
    for logical, res in (parent.get("Resources") or {}).items():
        url = (res.get("Properties") or {}).get("TemplateURL")
        if res.get("Type") == STACK and isinstance(url, str):
            out[logical] = url.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return out


def _children(key: Key, res: dict[str, Any], templates: dict[str, dict[str, Any]], stems: dict[str, str]) -> list[Key]:
    rule = (res.get("Properties") or {}).get("AlarmRule")
    text = rule.get("Fn::Sub") if isinstance(rule, dict) else rule
    if isinstance(text, list):
        text = text[0]
    out = []
    for logical, _, output in _CHILD.findall(text or ""):
        if not output:
            out.append((key[0], logical))
            continue
        stem = stems.get(logical, "")
        value = ((templates.get(stem) or {}).get("Outputs") or {}).get(output, {}).get("Value", {})
        target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
        if isinstance(target, list) and target:
            out.append((stem, target[0]))
    return out


def _components(resources: dict[Key, dict[str, Any]], parents: dict[Key, list[Key]], children: dict[Key, list[Key]],
                names: dict[Key, str], solution: str) -> dict[Key, str]:
    """Every alarm's component: the name of the nearest composite above it that a solution or
    stack composite names directly (`<solution>-<component>-<Severity>`); the alert path is 'alert-path'."""
    def is_top(key: Key) -> bool:
        return naming.is_solution_or_stack_composite(key[1])

    component_composites = {k for k in names if resources[k].get("Type") == COMPOSITE and not is_top(k)
                            and any(is_top(p) for p in parents.get(k, []))}
    out: dict[Key, str] = {}

    def label(key: Key) -> str:
        name = _SUFFIX.sub("", names[key])
        return name[len(solution) + 1:] if solution != "?" and name.startswith(solution + "-") else name

    for comp in sorted(component_composites):
        todo = [comp]
        while todo:
            current = todo.pop()
            if current not in out:
                out[current] = label(comp)
                todo += children.get(current, [])
    return out


def _history(topic_id: str) -> bool:
    """The alarm-history topic records the state changes of alarms that reach people through a
    composite; it has no subscriber by design, so it is nobody's notification (core/rollup.py)."""
    return topic_id == naming.HISTORY_TOPIC_ID or topic_id.endswith(f"-{naming.HISTORY_TOPIC_SUFFIX}")


def _topic_id(value: Any) -> str | None:
    """`{"Ref": "AlertsTopic"}` -> "AlertsTopic" (a nested stack's parameter of that name is the same topic); an ARN stays."""
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return value["Ref"]
    if isinstance(value, str) and value.startswith("arn:") and ":sns:" in value:
        return value
    return None


def _topics(parent: dict[str, Any]) -> dict[str, Topic]:
    resources = parent.get("Resources") or {}
    subs: dict[str, list[Recipient]] = {}
    for res in resources.values():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::SNS::Subscription":
            topic = _topic_id(props.get("TopicArn"))
            endpoint = props.get("Endpoint")
            shown = endpoint if isinstance(endpoint, str) else json.dumps(endpoint, sort_keys=True)
            if topic:
                subs.setdefault(topic, []).append(Recipient(str(props.get("Protocol", "?")), shown))
        elif res.get("Type") == "AWS::Chatbot::SlackChannelConfiguration":
            for arn in props.get("SnsTopicArns") or []:
                topic = _topic_id(arn)
                if topic:
                    subs.setdefault(topic, []).append(Recipient("slack", f"{props.get('SlackWorkspaceId', '?')}/{props.get('SlackChannelId', '?')}"))
    out = {}
    for logical, res in resources.items():
        if res.get("Type") == "AWS::SNS::Topic":
            name = (res.get("Properties") or {}).get("TopicName", logical)
            out[logical] = Topic(logical, name if isinstance(name, str) else logical, tuple(subs.get(logical, [])))
    return out


def _recipients(topic_ids: list[str], topics: dict[str, Topic]) -> tuple[str, ...]:
    out: list[str] = []
    for tid in topic_ids:
        topic = topics.get(tid)
        recipients = topic.recipients if topic else (Recipient("topic", tid),)
        out += [f"{r.protocol} {r.endpoint}" for r in recipients]
    return tuple(dict.fromkeys(out))


def _rule_component(name: str, solution: str, components: set[str]) -> str:
    """The component of a rule named `<solution>-<component>-<Suffix>` (the longest known component that fits)."""
    fits = [c for c in components if name.startswith(f"{solution}-{c}-")]
    return max(fits, key=len) if fits else "?"


def _severity(props: dict[str, Any], key: Key, ancestors: list[Key], names: dict[Key, str]) -> str:
    found = _SEVERITY.match(props.get("AlarmDescription") or "")
    if found:
        return found.group(1)
    for ancestor in ancestors:
        suffix = _SUFFIX.search(names[ancestor])
        if suffix:
            return suffix.group(1).lower()
    return "?"


def _dims(props: dict[str, Any]) -> str:
    parts = []
    for dim in props.get("Dimensions") or []:
        value = dim.get("Value")
        parts.append(f"{dim.get('Name')}={value if isinstance(value, str) else '<' + next(iter(value), 'expr') + '>'}")
    return ", ".join(parts)


def _watch(props: dict[str, Any]) -> tuple[str, str]:
    """(what the alarm watches, its threshold in natural units) from the description, else the properties."""
    statistic = props.get("Statistic") or props.get("ExtendedStatistic") or "?"
    dims = _dims(props)
    watches = f"{statistic} of {props.get('Namespace', '?')} {props.get('MetricName', '?')}" + (f" ({dims})" if dims else "")
    cmp = SYMBOLS.get(props.get("ComparisonOperator", ""), "?")
    metric_threshold = props.get("Threshold", "?")
    m, n, period = props.get("DatapointsToAlarm", props.get("EvaluationPeriods", "?")), props.get("EvaluationPeriods", "?"), props.get("Period", "?")
    if props.get("Metrics"):  # metric math or an anomaly band: the queries say what is watched
        stats = [q["MetricStat"] for q in props["Metrics"] if isinstance(q.get("MetricStat"), dict)]
        exprs = [q["Expression"] for q in props["Metrics"] if q.get("Expression")]
        watches = "; ".join([*(f"{q.get('Id')} = {st.get('Stat')} of {st['Metric'].get('Namespace')} {st['Metric'].get('MetricName')}"
                               + (f" ({_dims(st['Metric'])})" if _dims(st["Metric"]) else "")
                               for q in props["Metrics"] if isinstance((st := q.get("MetricStat")), dict)), *exprs])
        period = stats[0].get("Period", "?") if stats else "?"
        if "ThresholdMetricId" in props:
            cmp = {"GreaterThanUpperThreshold": "above", "LessThanLowerThreshold": "below"}.get(props.get("ComparisonOperator", ""), "outside")
            metric_threshold = "the band"
    natural = f"{metric_threshold}"
    found = _ALARM_LINE.search(props.get("AlarmDescription") or "")
    if found:
        natural = found.group("threshold")
    missing = props.get("TreatMissingData", "missing")
    low = props.get("EvaluateLowSampleCountPercentile")
    low_text = f"; too few samples for the percentile: {low}" if low else ""
    return watches, f"{cmp} {natural}, {m} of {n} x {period} s (missing data: {missing}{low_text})"


def _rule_watch(props: dict[str, Any]) -> str:
    pattern = _deep_text(props.get("EventPattern") or {})
    types = pattern.get("detail-type") if isinstance(pattern, dict) else None
    detail_type = ", ".join(str(t) for t in types) if isinstance(types, list) and types else "events"
    return f"EventBridge '{detail_type}'"


def _deep_text(value: Any) -> Any:
    """Every CloudFormation function inside `value` shown as text (see `cfn_text`)."""
    shown = cfn_text(value)
    if shown is not value:
        return shown
    if isinstance(value, dict):
        return {k: _deep_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_text(v) for v in value]
    return value


def _rule_match(props: dict[str, Any]) -> str:
    pattern = _deep_text(props.get("EventPattern") or {})
    if not isinstance(pattern, dict):
        return "matches an event pattern the template computes"
    detail = pattern.get("detail") or {}
    parts = [f"{k} {json.dumps(v, sort_keys=True, separators=(',', ':'))}" for k, v in sorted(detail.items())]
    return "matches " + ("; ".join(parts) if parts else "every event of that type")


# --------------------------------------------------------------------------- rendering
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _mermaid_id(name: str, ids: dict[str, str]) -> str:
    if name not in ids:
        ids[name] = f"n{len(ids)}"
    return ids[name]


def mermaid(plan: Plan) -> str:
    """A flowchart: composites down to alarms; every notifying alarm or rule -> its topic -> the recipients."""
    ids: dict[str, str] = {}
    lines = ["flowchart TD"]
    nodes: dict[str, str] = {}

    def node(key: str, shape: str, label: str | None = None) -> str:
        nid = _mermaid_id(key, ids)
        nodes.setdefault(nid, shape.format(id=nid, label=(label or key).replace('"', "'")))
        return nid

    for composite in plan.composites:
        node(composite, '{id}(["{label}"])')
    for row in plan.rows:
        if row.type == "alarm":
            node(row.name, '{id}["{label}"]')
        else:
            node(f"rule:{row.name}", '{id}>"rule {label}"]', row.name)
    for topic in plan.topics:
        node(f"topic:{topic.id}", '{id}[("{label}")]', f"topic {topic.name}")
        for r in topic.recipients:
            node(f"{r.protocol}:{r.endpoint}", '{id}(("{label}"))', f"{r.protocol} {r.endpoint}")
    edges: list[str] = []
    for parent, child in plan.tree:
        edges.append(f"  {ids[parent]} --> {ids[child]}")
    notifying = [(name, topics) for name, topics in plan.composites.items() if topics]
    notifying += [(r.name if r.type == "alarm" else f"rule:{r.name}", r.topics) for r in plan.rows
                  if r.topics and (r.type == "rule" or (r.notifies_via and r.notifies_via[0] == r.name))]
    for name, topics in notifying:
        for tid in topics:
            edges.append(f"  {ids[name]} -. notifies .-> {ids['topic:' + tid]}")
    for topic in plan.topics:
        for r in topic.recipients:
            edges.append(f"  {ids['topic:' + topic.id]} --> {ids[f'{r.protocol}:{r.endpoint}']}")
    lines += [f"  {shape}" for shape in nodes.values()]
    lines += edges
    return "\n".join(lines)


def _who(recipient: str) -> str:
    protocol, _, endpoint = recipient.partition(" ")
    return f"existing topic {endpoint} (its subscribers are managed outside this template)" if protocol == "topic" else recipient


def to_markdown(plan: Plan, title: str) -> str:
    c = plan.counts
    out = [f"# Plan: {title}", "",
           f"Solution `{plan.solution}`: {c['alarms']} alarms, {c['composites']} composite alarms, {c['rules']} EventBridge rules, "
           f"{c['topics']} topic(s).", ""]
    if plan.silent:
        out += [f"**{len(plan.silent)} alarm(s) notify nobody** (no SNS action on them or a composite above them, "
                "or a topic without subscribers): " + ", ".join(f"`{r.name}`" for r in plan.silent), ""]
    out += ["## Alarms and rules", "",
            "| component | type | name | watches | threshold | severity | notified (via -> who) |",
            "|---|---|---|---|---|---|---|"]
    for r in plan.rows:
        via = (", ".join(r.notifies_via) + " -> ") if r.notifies_via else ""
        who = ", ".join(_who(x) for x in r.recipients) or ("no target (counted by its TriggeredRules alarm)" if r.type == "rule" else "nobody")
        out.append("| " + " | ".join(_cell(x) for x in (r.component, r.type, f"`{r.name}`", r.watches, r.threshold, r.severity, via + who)) + " |")
    out += ["", "## Recipients", ""]
    for topic in plan.topics:
        recipients = ", ".join(_who(f"{r.protocol} {r.endpoint}") for r in topic.recipients) or "nobody (no subscription)"
        out.append(f"- topic `{topic.name}`: {recipients}")
    if any(r.protocol == "email" for t in plan.topics for r in t.recipients):
        out.append("- every email address must confirm its subscription after the deploy, or it receives nothing")
    if plan.bill is not None:
        out += ["", "## Monthly bill", "", plan.bill.markdown().rstrip("\n")]
    if plan.deployment is not None:
        out += ["", *plan.deployment.markdown()]
    out += ["", "## Alarm tree", "", "```mermaid", mermaid(plan), "```", ""]
    return "\n".join(out)


def to_json(plan: Plan) -> str:
    data = {
        "solution": plan.solution,
        "counts": plan.counts,
        "rows": [asdict(r) for r in plan.rows],
        "topics": [asdict(t) for t in plan.topics],
        "tree": [{"parent": p, "child": c} for p, c in plan.tree],
        "composites": {k: list(v) for k, v in plan.composites.items()},
        "silent": [r.name for r in plan.silent],
        "bill": plan.bill.to_dict() if plan.bill is not None else None,
        "deployment": plan.deployment.to_dict() if plan.deployment is not None else None,
        "mermaid": mermaid(plan),
    }
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
