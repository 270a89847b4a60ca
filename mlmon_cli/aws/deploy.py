"""`mlmon deploy`: generate the template, create a change set, show it, execute it, watch it.

What it does, in order (each step is a function below):

1. generate the template(s) from the spec (exactly what `mlmon generate` writes);
2. decide CREATE or UPDATE from the stack's status (a stack left in ROLLBACK_COMPLETE by a failed
   first create cannot be updated: the message says to delete it);
3. pass the template inline, or upload it (and nested stack templates) to
   `s3://BUCKET/PREFIX/<sha256>.yaml` when it is over CloudFormation's 51,200-byte inline limit;
4. create a change set (with CAPABILITY_IAM / CAPABILITY_NAMED_IAM only when the template has IAM
   resources), print its summary, and treat "no changes" as success;
5. with `execute=False` (`--no-execute`) stop here: print the property-level diff of every
   modified resource and leave the change set for review (the stack is unchanged); else
   execute it and print every new stack event until the stack reaches a terminal status;
6. on failure, raise `AwsError` (exit 5) listing each failed resource with its reason, including
   the resources of failed nested stacks.

Nothing here prints: progress goes to the `log` callback the CLI passes in.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from ..errors import AwsError, AwsUsageError
from ..limits import INLINE_TEMPLATE_BYTES
from ..lint import null_paths
from .session import Aws, Target, aws_errors, error_code, error_message

NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET_TIMEOUT = 600.0
# A *_FAILED stack status is believed only after this long without new events: LocalStack sets
# the stack to DELETE_FAILED / CREATE_FAILED for a moment whenever one resource operation fails
# and carries on (to DELETE_COMPLETE / ROLLBACK_COMPLETE); AWS's final statuses never change.
FAILED_SETTLE_SECONDS = 5.0
# LocalStack (4.14, v2 engine) also writes a finished stack in steps: CREATE_COMPLETE / UPDATE_COMPLETE
# first, then the outputs, then the stack's ChangeSetId; a DescribeStacks in between reports success
# with no (or the previous) outputs. A success is believed once the describe shows the executed change
# set and every output the template declares unconditionally; AWS's describe shows both at once.
OUTPUTS_SETTLE_SECONDS = 10.0
NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}
SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
NOT_UPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED")
SYMBOLS = {"Add": "+", "Modify": "~", "Remove": "-", "Import": ">", "Dynamic": "?"}

Log = Callable[[str], None]


@dataclass(frozen=True)
class DeployRequest:
    """What `mlmon deploy` was asked to do (parameters and tags as raw KEY=VALUE strings)."""

    stack_name: str
    target: Target = Target()
    parameters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    s3_bucket: str | None = None
    s3_prefix: str = "mlmon"
    timeout_seconds: float = 3600.0
    poll_seconds: float | None = None  # default: 0.5 s against --endpoint-url, else 2 s
    execute: bool = True  # False: create the change set, print its diff, change nothing
    resolve_s3: bool = False  # use (and create once) the managed bucket of the account and region
    revert_drift: bool = False  # drift-aware change set (DeploymentMode=REVERT_DRIFT): drifted properties go back to the template


@dataclass
class DeployResult:
    stack_name: str
    stack_id: str
    status: str  # the final stack status; unchanged when `changed` is False
    changed: bool
    changes: int
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    change_set_id: str = ""  # the change set left for review (execute=False)


def parse_pairs(values: Iterable[str], option: str) -> dict[str, str]:
    """`KEY=VALUE` strings -> dict; a malformed one is a usage error naming the option."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise AwsUsageError(f"mlmon: {option} {value!r}: expected KEY=VALUE")
        pairs[key.strip()] = val
    return pairs


def deploy_spec(spec: Path, request: DeployRequest, log: Log, env: str | None = None) -> DeployResult:
    """Generate the template(s) for `spec` (with environment `env` applied) and deploy them."""
    from ..core.pipeline import generate, load_path

    parse_pairs(request.parameters, "--parameter")  # fail fast on malformed options
    parse_pairs(request.tags, "--tag")
    _check_bucket_options(request)
    parsed = load_path(spec, env=env)
    result = generate(parsed)
    nested = {stem: t.to_dict() for stem, t in getattr(result, "nested", {}).items()}
    log(f"mlmon: generated {spec}{f' [env {env}]' if env else ''}: {result.alarms} alarms, {result.composites} composite alarms, "
        f"{result.rules} EventBridge rules" + (f", {len(nested)} nested stacks" if nested else ""))
    return deploy_template(result.template.to_dict(), request, log, nested=nested)


def deploy_template(template: dict[str, Any], request: DeployRequest, log: Log,
                    nested: dict[str, dict[str, Any]] | None = None) -> DeployResult:
    """Deploy a template dict (plus nested templates by file stem) through a change set."""
    nested = nested or {}
    params, tags = _checked_inputs(template, nested, request)
    _check_bucket_options(request)
    aws = Aws(request.target)
    cfn = aws.client("cloudformation")
    poll = request.poll_seconds if request.poll_seconds is not None else (0.5 if request.target.endpoint_url else 2.0)
    started = time.monotonic()
    name = request.stack_name

    existing = _describe_stack(cfn, name)
    status = existing["StackStatus"] if existing else None
    change_type = _change_type(name, status)
    if request.revert_drift and change_type != "UPDATE":
        raise AwsUsageError(f"mlmon: --revert-drift: stack {name} does not exist yet; there is no drift to revert (deploy without it)")
    template, location = _upload_templates(aws, template, nested, request, log)
    parameters = _parameters(template, params, existing)
    cs_name = "mlmon-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    args: dict[str, Any] = dict(
        StackName=name, ChangeSetName=cs_name, ChangeSetType=change_type, Parameters=parameters,
        Capabilities=capabilities([template, *nested.values()]), Description="mlmon deploy", **location,
    )
    if tags:
        args["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    if request.revert_drift:  # aws-ml-facts-3 §5: three-way comparison, ResourceDriftStatus and Target.Drift per property
        args["DeploymentMode"] = "REVERT_DRIFT"
    with aws_errors(f"create a change set for stack {name}"):
        created = cfn.create_change_set(**args)
    stack_id = created["StackId"]
    change_set = _wait_change_set(cfn, stack_id, created["Id"], poll, log)
    if change_set["Status"] == "FAILED":
        reason = change_set.get("StatusReason") or "no reason given"
        _best_effort(lambda: cfn.delete_change_set(ChangeSetName=created["Id"]))
        if any(marker in reason for marker in NO_CHANGES):
            log(f"mlmon: no changes: stack {name} is up to date ({status})")
            return DeployResult(name, stack_id, status or "", False, 0, _outputs(cfn, stack_id), time.monotonic() - started)
        if change_type == "CREATE":
            _best_effort(lambda: cfn.delete_stack(StackName=stack_id))  # leave no empty REVIEW_IN_PROGRESS stack
        raise AwsError(f"mlmon: the change set for stack {name} failed: {reason}")

    changes = _all_changes(cfn, change_set, poll)
    if not request.execute:
        from .diff import drift_lines, resource_diff, template_of

        old = template_of(cfn, stack_id) if change_type == "UPDATE" else None
        def details(change: dict[str, Any]) -> list[str]:
            return drift_lines(change) + (resource_diff(change, old, template) if change.get("Action") == "Modify" else [])

        for line in change_summary(name, change_type, cs_name, changes, details):
            log(line)
        log(f"mlmon: --no-execute: stack {name} is unchanged" + (" (REVIEW_IN_PROGRESS until the change set runs)" if change_type == "CREATE" else "")
            + f"; to apply exactly this change set: aws cloudformation execute-change-set --change-set-name {created['Id']}"
            + f"; to drop it: aws cloudformation delete-change-set --change-set-name {created['Id']}")
        outputs = {} if change_type == "CREATE" else _outputs(cfn, stack_id)
        return DeployResult(name, stack_id, status or "REVIEW_IN_PROGRESS", False, len(changes), outputs,
                            time.monotonic() - started, created["Id"])
    for line in change_summary(name, change_type, cs_name, changes):
        log(line)

    seen = {e["EventId"] for e in _event_page(cfn, stack_id)}
    with aws_errors(f"execute change set {cs_name} of stack {name}"):
        cfn.execute_change_set(ChangeSetName=created["Id"])
    log(f"mlmon: executing {cs_name}; stack events follow")
    stack, events = _watch(cfn, stack_id, seen, poll, request.timeout_seconds, log)
    if stack["StackStatus"] in SUCCESS:
        stack = _settled_success(cfn, stack, created["Id"], _declared_outputs(template), poll, log)
    final = stack["StackStatus"]
    elapsed = time.monotonic() - started
    if final in SUCCESS:
        log(f"mlmon: stack {name}: {final} in {elapsed:.1f} s")
        return DeployResult(name, stack_id, final, True, len(changes), _outputs_of(stack), elapsed)
    raise AwsError(failure_report(cfn, name, stack, events, change_type))

def _checked_inputs(template: dict[str, Any], nested: dict[str, dict[str, Any]],
                    request: DeployRequest) -> tuple[dict[str, str], dict[str, str]]:
    """Refuse, before any AWS call, what CloudFormation would refuse: null values and undeclared parameters."""
    nulls = [f"{stem}:{path}" for stem, tpl in [("template", template), *nested.items()] for path in null_paths(tpl)]
    if nulls:  # CloudFormation: "'null' values are not allowed in templates"
        raise RuntimeError(f"the generated template has null values, which CloudFormation rejects: {', '.join(nulls[:5])}"
                           + (f" and {len(nulls) - 5} more" if len(nulls) > 5 else ""))
    params = parse_pairs(request.parameters, "--parameter")
    tags = parse_pairs(request.tags, "--tag")
    declared = template.get("Parameters") or {}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise AwsUsageError(f"mlmon: --parameter {', '.join(unknown)}: the template has no such parameter (it declares: {known})")
    return params, tags


def _change_type(name: str, status: str | None) -> str:
    """CREATE or UPDATE, or a clear refusal when the stack cannot take a change set now."""
    if status in NOT_UPDATABLE:
        hint = "a failed first create leaves nothing to keep" if status == "ROLLBACK_COMPLETE" else "fix it in the console"
        raise AwsError(f"mlmon: stack {name} is in {status} and cannot be updated ({hint}); delete it and deploy again: "
                       f"aws cloudformation delete-stack --stack-name {name}")
    if status and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise AwsError(f"mlmon: stack {name} is busy ({status}); wait until it finishes and deploy again")
    return "UPDATE" if status and status != "REVIEW_IN_PROGRESS" else "CREATE"


def _upload_templates(aws: Aws, template: dict[str, Any], nested: dict[str, dict[str, Any]], request: DeployRequest,
                      log: Log) -> tuple[dict[str, Any], dict[str, str]]:
    """Nested templates (and a root over the inline limit) go to S3; returns the root and where CloudFormation reads it."""
    from ..serialize import dump

    buckets: dict[str, str] = {}  # the resolved bucket, once
    if nested:
        bucket = _need_bucket(request, f"the template has {len(nested)} nested stacks, whose templates CloudFormation reads from S3",
                              aws, buckets, log)
        by_path = {}
        for stem, child in sorted(nested.items()):
            url = _upload(aws, bucket, request.s3_prefix, dump(child, "yaml"), log, buckets.get("owner"))
            by_path.update({f"stacks/{stem}.{ext}": url for ext in ("yaml", "json")})
        template = _point_nested_stacks(template, by_path)
    body = dump(template, "yaml")
    size = len(body.encode("utf-8"))
    if size <= INLINE_TEMPLATE_BYTES:
        return template, {"TemplateBody": body}
    bucket = _need_bucket(request, f"the template is {size} bytes, over CloudFormation's {INLINE_TEMPLATE_BYTES}-byte inline limit",
                          aws, buckets, log)
    url = _upload(aws, bucket, request.s3_prefix, body, log, buckets.get("owner"))
    return template, {"TemplateURL": url}


def _parameters(template: dict[str, Any], params: dict[str, str], existing: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The given parameters; every other declared one the stack already has keeps its previous value."""
    parameters: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())]
    if existing:
        previous = {p["ParameterKey"] for p in existing.get("Parameters") or []}
        declared = template.get("Parameters") or {}
        parameters += [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(declared) if k in previous and k not in params]
    return parameters



def _check_bucket_options(request: DeployRequest) -> None:
    if request.resolve_s3 and request.s3_bucket:
        raise AwsUsageError("mlmon: --resolve-s3 and --s3-bucket exclude each other: give one")


# --------------------------------------------------------------------------- template handling
def capabilities(templates: Iterable[dict[str, Any]]) -> list[str]:
    """CAPABILITY_IAM when a template creates IAM resources, NAMED_IAM when it names them."""
    caps: set[str] = set()
    for template in templates:
        if template.get("Transform"):
            caps.add("CAPABILITY_AUTO_EXPAND")
        for resource in (template.get("Resources") or {}).values():
            kind = resource.get("Type", "")
            if kind.startswith("AWS::IAM::"):
                caps.add("CAPABILITY_IAM")
                if NAMED_IAM.get(kind) in (resource.get("Properties") or {}):
                    caps.add("CAPABILITY_NAMED_IAM")
    return sorted(caps)


def _point_nested_stacks(template: dict[str, Any], urls: dict[str, str]) -> dict[str, Any]:
    resources = dict(template.get("Resources") or {})
    for logical, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::CloudFormation::Stack" and props.get("TemplateURL") in urls:
            resources[logical] = {**resource, "Properties": {**props, "TemplateURL": urls[props["TemplateURL"]]}}
    return {**template, "Resources": resources}


def _need_bucket(request: DeployRequest, why: str, aws: Aws, buckets: dict[str, str], log: Log) -> str:
    if request.resolve_s3:
        if "name" not in buckets:
            from .bucket import resolve_bucket

            buckets["name"], buckets["owner"] = resolve_bucket(aws, log)
        return buckets["name"]
    if not request.s3_bucket:
        raise AwsUsageError(f"mlmon: {why}: pass --resolve-s3 (a managed bucket) or --s3-bucket BUCKET (an existing bucket in the stack's region "
                            "that you can write to); templates go to s3://BUCKET/"
                            + (request.s3_prefix.strip("/") + "/" if request.s3_prefix.strip("/") else "") + "<sha256>.yaml")
    return request.s3_bucket


def _upload(aws: Aws, bucket: str, prefix: str, text: str, log: Log, owner: str | None = None) -> str:
    data = text.encode("utf-8")
    key = hashlib.sha256(data).hexdigest() + ".yaml"
    if prefix.strip("/"):
        key = f"{prefix.strip('/')}/{key}"
    s3 = aws.client("s3")
    with aws_errors(f"upload the template to s3://{bucket}/{key}"):
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/x-yaml",
                      **({"ExpectedBucketOwner": owner} if owner else {}))
    log(f"mlmon: uploaded {len(data)} bytes to s3://{bucket}/{key}")
    return f"{s3.meta.endpoint_url.rstrip('/')}/{bucket}/{quote(key)}"


# --------------------------------------------------------------------------- CloudFormation calls
def _describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    with aws_errors(f"describe stack {name}"):
        try:
            return cfn.describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as exc:
            if error_code(exc) == "ValidationError" and "does not exist" in error_message(exc):
                return None
            raise


def _wait_change_set(cfn: Any, stack_id: str, change_set_id: str, poll: float, log: Log = lambda _: None) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + CHANGE_SET_TIMEOUT
    progress = Progress(log, "mlmon: waiting for the change set")
    while True:
        with aws_errors("describe the change set"):
            cs = cfn.describe_change_set(ChangeSetName=change_set_id, StackName=stack_id, IncludePropertyValues=True)
        if cs["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return cs
        if time.monotonic() > deadline:
            raise AwsError(f"mlmon: change set still {cs['Status']} after {CHANGE_SET_TIMEOUT:.0f} s")
        progress.tick(cs["Status"])
        time.sleep(poll)


class FailedSettle:
    """Decides when a stack status is final: at once, except *_FAILED, which must hold for
    FAILED_SETTLE_SECONDS with no new stack event and no resource operation under way (see
    FAILED_SETTLE_SECONDS). A resource whose last event is *_IN_PROGRESS is still being worked
    on: LocalStack deletes the next resource while the stack says DELETE_FAILED, and one slow
    resource (a busy machine) outlasts any quiet period; AWS sets a final status only once every
    resource operation has ended."""

    def __init__(self, seconds: float | None = None):
        self.seconds = FAILED_SETTLE_SECONDS if seconds is None else seconds
        self.since: float | None = None
        self.resources: dict[str, str] = {}  # logical ID -> its latest status (the stack's own events excluded)

    def event(self, event: dict[str, Any] | None = None) -> None:
        self.since = None
        if event and not (event.get("StackId") and event.get("PhysicalResourceId") == event["StackId"]):
            self.resources[event.get("LogicalResourceId", "?")] = event.get("ResourceStatus", "")

    def busy(self) -> list[str]:
        return sorted(k for k, status in self.resources.items() if status.endswith("_IN_PROGRESS"))

    def final(self, status: str) -> bool:
        if not status.endswith("_FAILED"):
            self.since = None
            return True
        now = time.monotonic()
        if self.since is None or self.busy():
            self.since = now
        return now - self.since >= self.seconds


class Progress:
    """A 'still waiting' line every `every` seconds of a wait with nothing else to show."""

    def __init__(self, log: Log, what: str, every: float = 15.0):
        self.log, self.what, self.every = log, what, every
        self.started = self.last = time.monotonic()

    def seen(self) -> None:
        self.last = time.monotonic()

    def tick(self, status: str) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.log(f"{self.what}: {status} ({now - self.started:.0f} s)")
            self.last = now


def _all_changes(cfn: Any, change_set: dict[str, Any], poll: float) -> list[dict[str, Any]]:
    changes = list(change_set.get("Changes") or [])
    token = change_set.get("NextToken")
    while token:
        with aws_errors("describe the change set"):
            page = cfn.describe_change_set(ChangeSetName=change_set["ChangeSetId"], StackName=change_set["StackId"], NextToken=token,
                                           IncludePropertyValues=True)
        changes += page.get("Changes") or []
        token = page.get("NextToken")
    return changes


def change_summary(stack: str, change_type: str, cs_name: str, changes: list[dict[str, Any]],
                   details: Callable[[dict[str, Any]], list[str]] | None = None) -> list[str]:
    counts: dict[str, int] = {}
    lines = []
    for change in changes:
        rc = change.get("ResourceChange") or {}
        action = rc.get("Action", "?")
        counts[action] = counts.get(action, 0) + 1
        extra = f" (replacement: {rc['Replacement']})" if action == "Modify" and rc.get("Replacement") else ""
        lines.append(f"  {SYMBOLS.get(action, '?')} {action:<7} {rc.get('LogicalResourceId', '?'):<48} {rc.get('ResourceType', '')}{extra}")
        if details is not None:
            lines += details(rc)
    totals = ", ".join(f"{n} {a.lower()}" for a, n in sorted(counts.items())) or "nothing"
    return [f"mlmon: change set {cs_name} ({change_type} stack {stack}): {len(changes)} changes ({totals})", *lines]


def _event_page(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    with aws_errors("describe stack events"):
        return cfn.describe_stack_events(StackName=stack_id).get("StackEvents") or []


def _new_events(cfn: Any, stack_id: str, seen: set[str]) -> list[dict[str, Any]]:
    """Events not seen yet, oldest first (pages are newest first: stop at the first seen one)."""
    fresh: list[dict[str, Any]] = []
    token = None
    while True:
        with aws_errors("describe stack events"):
            page = cfn.describe_stack_events(StackName=stack_id, **({"NextToken": token} if token else {}))
        for event in page.get("StackEvents") or []:
            if event["EventId"] in seen:
                token = None
                break
            fresh.append(event)
        else:
            token = page.get("NextToken")
        if not token:
            break
    seen.update(e["EventId"] for e in fresh)
    return list(reversed(fresh))


def format_event(event: dict[str, Any]) -> str:
    stamp = event.get("Timestamp")
    when = stamp.strftime("%H:%M:%S") if isinstance(stamp, datetime) else str(stamp)
    reason = event.get("ResourceStatusReason") or ""
    return f"  {when}  {event.get('LogicalResourceId', '?'):<48} {event.get('ResourceStatus', '?'):<22} {reason}".rstrip()


def _watch(cfn: Any, stack_id: str, seen: set[str], poll: float, timeout: float, log: Log) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    events: list[dict[str, Any]] = []
    progress = Progress(log, "mlmon: still waiting for the stack")
    settle = FailedSettle()
    while True:
        for event in _new_events(cfn, stack_id, seen):
            events.append(event)
            log(format_event(event))
            progress.seen()
            settle.event(event)
        with aws_errors("describe the stack"):
            stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") and settle.final(stack["StackStatus"]):
            for event in _new_events(cfn, stack_id, seen):
                events.append(event)
                log(format_event(event))
            return stack, events
        if time.monotonic() > deadline:
            raise AwsError(f"mlmon: stack {stack['StackName']} still {stack['StackStatus']} after {timeout:.0f} s; "
                           "CloudFormation carries on: follow it in the console")
        progress.tick(stack["StackStatus"])
        time.sleep(poll)


def failure_report(cfn: Any, name: str, stack: dict[str, Any], events: list[dict[str, Any]], change_type: str) -> str:
    """The failed resources with their reasons (root causes first, 'cancelled' ones last)."""
    failed = _failed(events)
    for event in events:  # one level into failed nested stacks: their own resources say why
        if event.get("ResourceType") == "AWS::CloudFormation::Stack" and event.get("ResourceStatus", "").endswith("_FAILED") \
                and event.get("PhysicalResourceId", "").startswith("arn:") and event.get("LogicalResourceId") != name:
            try:
                failed += [(f"{event['LogicalResourceId']}/{a}", b, c, d) for a, b, c, d in _failed(_event_page(cfn, event["PhysicalResourceId"]))]
            except AwsError:
                pass
    unique = list(dict.fromkeys(failed))
    unique.sort(key=lambda f: "cancel" in f[3].lower())
    lines = [f"mlmon: deploy of stack {name} failed: {stack['StackStatus']}"
             + (f" ({stack['StackStatusReason']})" if stack.get("StackStatusReason") else "")]
    lines += [f"  {logical} ({kind}): {status}: {reason}" for logical, kind, status, reason in unique]
    if not unique:
        lines.append("  (CloudFormation gave no resource-level reason; see the stack's events in the console)")
    if stack["StackStatus"] == "ROLLBACK_COMPLETE" and change_type == "CREATE":
        lines.append(f"mlmon: the stack was rolled back and cannot be updated; delete it before deploying again: "
                     f"aws cloudformation delete-stack --stack-name {name}")
    return "\n".join(lines)


def _failed(events: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [
        (e.get("LogicalResourceId", "?"), e.get("ResourceType", "?"), e["ResourceStatus"], e["ResourceStatusReason"])
        for e in events
        if e.get("ResourceStatus", "").endswith("_FAILED") and e.get("ResourceStatusReason")
    ]


def _outputs(cfn: Any, stack_id: str) -> dict[str, str]:
    with aws_errors("describe the stack"):
        return _outputs_of(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])


def _outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}


def _declared_outputs(template: dict[str, Any]) -> set[str]:
    """Outputs every successful stack of this template reports (those under a Condition may not)."""
    return {k for k, v in (template.get("Outputs") or {}).items() if not (isinstance(v, dict) and "Condition" in v)}


def _unsettled(stack: dict[str, Any], change_set_id: str, declared: set[str]) -> list[str]:
    """What a successful describe still lacks: the executed change set, declared outputs (see OUTPUTS_SETTLE_SECONDS)."""
    missing = sorted(declared - set(_outputs_of(stack)))
    stale = stack.get("ChangeSetId") not in (None, change_set_id)
    return (["ChangeSetId " + change_set_id] if stale else []) + [f"output {k}" for k in missing]


def _settled_success(cfn: Any, stack: dict[str, Any], change_set_id: str, declared: set[str], poll: float,
                     log: Log) -> dict[str, Any]:
    """The successful stack as it is once written in full (see OUTPUTS_SETTLE_SECONDS)."""
    deadline = time.monotonic() + OUTPUTS_SETTLE_SECONDS
    while (lacking := _unsettled(stack, change_set_id, declared)) and time.monotonic() < deadline:
        time.sleep(poll)
        with aws_errors("describe the stack"):
            stack = cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
    if lacking:
        log(f"mlmon: stack {stack['StackName']} reports {stack['StackStatus']} without {', '.join(lacking)} "
            f"after {OUTPUTS_SETTLE_SECONDS:.0f} s; the outputs below are what it reports")
    return stack


def _best_effort(call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception:
        pass
