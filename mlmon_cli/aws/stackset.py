"""`mlmon deploy --stack-set` / `mlmon delete --stack-set`: one spec, every account and Region.

CloudFormation StackSets do the fan-out (aws-ml-facts-3 §4): a StackSet in the administrator
account (or a delegated administrator, `--call-as DELEGATED_ADMIN`) and one stack instance per
account (or OU) and Region. In order:

1. generate the member template of the spec (with `organization:`, it forwards to the central
   account); refuse early what the default execution role cannot provision (nested stacks, SAM or
   other transforms) unless a custom execution role `stacksets-exec-custom-*` is named;
2. pass the template inline (<= 51,200 bytes) or upload it to S3 (`TemplateURL`);
3. create the StackSet, or update it (every existing instance is updated);
4. create the instances that do not exist yet, one operation per target (its parameter
   overrides), with the operation preferences (concurrency, failure tolerance);
5. wait for every operation and report each instance: account, Region, status, reason
   (`ListStackSetOperationResults`). A failed operation raises `AwsError` (exit 5).

Self-managed permissions take explicit accounts; service-managed permissions take OUs and keep
deploying to accounts that join them (`AutoDeployment`). Nothing here prints: progress goes to `log`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ..errors import AwsError, AwsUsageError
from ..spec.organization import account_problem, ou_problem, region_problem
from .deploy import DeployRequest, _upload_templates, capabilities, parse_pairs
from .session import Aws, Target, aws_errors, error_code, error_message

Log = Callable[[str], None]
CUSTOM_ROLE_PREFIX = "stacksets-exec-custom-"  # the only names a custom execution role may have (§4)
DONE = ("SUCCEEDED", "FAILED", "STOPPED")
NOT_FOUND = ("StackSetNotFoundException", "ResourceNotFoundException")  # AWS; LocalStack answers the latter


@dataclass(frozen=True)
class InstanceGroup:
    """Accounts (or OUs) x Regions deployed in one operation, with their parameter overrides."""

    regions: tuple[str, ...]
    accounts: tuple[str, ...] = ()
    organizational_units: tuple[str, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StackSetRequest:
    """What `mlmon deploy --stack-set` was asked to do."""

    name: str
    groups: tuple[InstanceGroup, ...] = ()
    target: Target = field(default_factory=Target)
    parameters: tuple[str, ...] = ()  # KEY=VALUE for the StackSet itself (every instance)
    tags: tuple[str, ...] = ()
    max_concurrent_percentage: int | None = None
    failure_tolerance_percentage: int | None = None
    max_concurrent_count: int | None = None
    failure_tolerance_count: int | None = None
    concurrency_mode: str | None = None  # STRICT_FAILURE_TOLERANCE | SOFT_FAILURE_TOLERANCE
    region_concurrency: str = "PARALLEL"
    administration_role_arn: str | None = None
    execution_role_name: str | None = None
    call_as: str = "SELF"
    s3_bucket: str | None = None
    s3_prefix: str = "mlmon"
    resolve_s3: bool = False
    timeout_seconds: float = 3600.0
    poll_seconds: float | None = None

    @property
    def service_managed(self) -> bool:
        return any(g.organizational_units for g in self.groups)


@dataclass
class InstanceReport:
    account: str
    region: str
    status: str
    reason: str = ""


@dataclass
class StackSetResult:
    name: str
    created: bool
    operations: list[str] = field(default_factory=list)
    instances: list[InstanceReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def groups_from(accounts: tuple[str, ...], regions: tuple[str, ...], ous: tuple[str, ...],
                spec_targets: tuple[Any, ...]) -> tuple[InstanceGroup, ...]:
    """The command line's targets when given (all or nothing), else the spec's `organization.targets`."""
    if accounts or ous or regions:
        if not regions:
            raise AwsUsageError("mlmon: --stack-set: give --regions with --accounts or --organizational-units")
        if bool(accounts) == bool(ous):
            raise AwsUsageError("mlmon: --stack-set: give either --accounts (self-managed) or --organizational-units (service-managed)")
        for option, values, problem in (("--accounts", accounts, account_problem), ("--regions", regions, region_problem),
                                        ("--organizational-units", ous, ou_problem)):
            bad = [problem(v) for v in values if problem(v)]
            if bad:
                raise AwsUsageError(f"mlmon: {option}: {bad[0]}")
        return (InstanceGroup(regions, accounts, ous),)
    groups = tuple(InstanceGroup(t.regions, t.accounts, t.organizational_units, t.parameters) for t in spec_targets)
    if not groups:
        raise AwsUsageError("mlmon: --stack-set: no targets: give --accounts/--organizational-units and --regions, "
                            "or list them under organization.targets in the spec")
    return groups


def check_provisionable(template: dict[str, Any], nested: dict[str, Any], request: StackSetRequest) -> None:
    """Fail before any AWS call when the StackSet execution role could not provision the template."""
    needs = []
    if nested:
        needs.append(f"{len(nested)} nested stacks")
    if template.get("Transform"):
        needs.append(f"the transform {template['Transform']}")
    if not needs:
        return
    if request.service_managed:
        raise AwsUsageError(f"mlmon: --stack-set: the template has {' and '.join(needs)}, which StackSets provision only through "
                            f"a custom execution role ({CUSTOM_ROLE_PREFIX}*), and service-managed StackSets (OUs) use the "
                            "default role: deploy to --accounts with --execution-role-name, or generate with --no-split")
    role = request.execution_role_name
    if not role or not role.startswith(CUSTOM_ROLE_PREFIX):
        raise AwsUsageError(f"mlmon: --stack-set: the template has {' and '.join(needs)}, which the default StackSet execution role "
                            f"cannot provision: create a custom execution role named {CUSTOM_ROLE_PREFIX}<name> in every target "
                            f"account (AWS's stacksets-custom-execution-role template) and pass --execution-role-name "
                            f"{CUSTOM_ROLE_PREFIX}<name>")


def operation_preferences(request: StackSetRequest) -> dict[str, Any]:
    prefs: dict[str, Any] = {"RegionConcurrencyType": request.region_concurrency}
    for key, value in (("MaxConcurrentPercentage", request.max_concurrent_percentage),
                       ("MaxConcurrentCount", request.max_concurrent_count),
                       ("FailureTolerancePercentage", request.failure_tolerance_percentage),
                       ("FailureToleranceCount", request.failure_tolerance_count),
                       ("ConcurrencyMode", request.concurrency_mode)):
        if value is not None:
            prefs[key] = value
    return prefs


def deploy_stack_set(template: dict[str, Any], nested: dict[str, dict[str, Any]], request: StackSetRequest, log: Log) -> StackSetResult:
    """Create or update the StackSet and its instances; wait and report each instance."""
    check_provisionable(template, nested, request)
    params = parse_pairs(request.parameters, "--parameter")
    tags = parse_pairs(request.tags, "--tag")
    declared = set(template.get("Parameters") or {})
    for group in request.groups:
        unknown = sorted({k for k, _ in group.parameters} - declared)
        if unknown:
            raise AwsUsageError(f"mlmon: organization.targets parameters {', '.join(unknown)}: the template declares no such parameter")
    aws = Aws(request.target)
    cfn = aws.client("cloudformation")
    poll = request.poll_seconds if request.poll_seconds is not None else (0.5 if request.target.endpoint_url else 5.0)
    template, location = _template_location(aws, template, nested, request, log)
    common: dict[str, Any] = {
        "StackSetName": request.name,
        "Capabilities": capabilities([template, *nested.values()]) + (["CAPABILITY_AUTO_EXPAND"] if template.get("Transform") else []),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())],
        "CallAs": request.call_as, **location,
    }
    if tags:
        common["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    if request.service_managed:
        common["PermissionModel"] = "SERVICE_MANAGED"
        common["AutoDeployment"] = {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    else:
        common["PermissionModel"] = "SELF_MANAGED"
        if request.administration_role_arn:
            common["AdministrationRoleARN"] = request.administration_role_arn
        if request.execution_role_name:
            common["ExecutionRoleName"] = request.execution_role_name
    result = StackSetResult(request.name, created=False)
    prefs = operation_preferences(request)
    existing = _describe_stack_set(cfn, request.name, request.call_as)
    if existing is None:
        with aws_errors(f"create StackSet {request.name}"):
            cfn.create_stack_set(**common)
        result.created = True
        log(f"mlmon: created StackSet {request.name} ({common['PermissionModel'].lower().replace('_', '-')} permissions)")
    else:
        update = {k: v for k, v in common.items() if k not in ("PermissionModel", "AutoDeployment")}
        with aws_errors(f"update StackSet {request.name}"):
            op = cfn.update_stack_set(**update, OperationPreferences=prefs)["OperationId"]
        log(f"mlmon: updating StackSet {request.name} and its existing instances (operation {op})")
        _wait_operation(cfn, request, op, poll, log, result)
    have = _instances(cfn, request.name, request.call_as)
    for group in request.groups:
        wanted = [(who, region) for who in (*group.accounts, *group.organizational_units) for region in group.regions]
        missing_regions = sorted({region for who, region in wanted if group.organizational_units or (who, region) not in have})
        if not missing_regions:
            continue
        args: dict[str, Any] = {"StackSetName": request.name, "Regions": missing_regions, "OperationPreferences": prefs,
                                "CallAs": request.call_as}
        if group.organizational_units:
            args["DeploymentTargets"] = {"OrganizationalUnitIds": list(group.organizational_units)}
        else:
            args["Accounts"] = sorted({who for who, region in wanted if (who, region) not in have})
        if group.parameters:
            args["ParameterOverrides"] = [{"ParameterKey": k, "ParameterValue": v} for k, v in group.parameters]
        where = ", ".join(args.get("Accounts") or group.organizational_units)
        with aws_errors(f"create stack instances of {request.name} in {where}"):
            op = cfn.create_stack_instances(**args)["OperationId"]
        log(f"mlmon: creating stack instances in {where} x {', '.join(missing_regions)} (operation {op})")
        _wait_operation(cfn, request, op, poll, log, result)
    failed = [i for i in result.instances if i.status not in ("SUCCEEDED", "CURRENT")]
    if failed:
        lines = "\n".join(f"  {i.account} {i.region}: {i.status}: {i.reason or 'no reason given'}" for i in failed)
        raise AwsError(f"mlmon: StackSet {request.name}: {len(failed)} instance(s) failed:\n{lines}")
    return result


def _template_location(aws: Aws, template: dict[str, Any], nested: dict[str, dict[str, Any]], request: StackSetRequest,
                       log: Log) -> tuple[dict[str, Any], dict[str, str]]:
    """Nested templates uploaded (the parent points at them); the parent inline or as a TemplateURL:
    the same S3 handling as `mlmon deploy` (deploy._upload_templates), with this request's bucket options."""
    bucket_request = DeployRequest(request.name, request.target, s3_bucket=request.s3_bucket, s3_prefix=request.s3_prefix,
                                   resolve_s3=request.resolve_s3)
    return _upload_templates(aws, template, nested, bucket_request, log)


def _describe_stack_set(cfn: Any, name: str, call_as: str) -> dict[str, Any] | None:
    try:
        return cfn.describe_stack_set(StackSetName=name, CallAs=call_as)["StackSet"]
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND:
            return None
        raise AwsError(f"mlmon: cannot describe StackSet {name}: {error_code(exc)}: {error_message(exc)}") from None


def _instances(cfn: Any, name: str, call_as: str) -> set[tuple[str, str]]:
    """(account, Region) of every instance the StackSet has."""
    found: set[tuple[str, str]] = set()
    try:
        for page in cfn.get_paginator("list_stack_instances").paginate(StackSetName=name, CallAs=call_as):
            found |= {(s["Account"], s["Region"]) for s in page.get("Summaries", [])}
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND:
            return found
        raise AwsError(f"mlmon: cannot list the instances of StackSet {name}: {error_code(exc)}: {error_message(exc)}") from None
    return found


def _wait_operation(cfn: Any, request: StackSetRequest, op: str, poll: float, log: Log, result: StackSetResult) -> None:
    """Wait for one operation (StackSets run one at a time), then add its per-instance results."""
    deadline = time.monotonic() + request.timeout_seconds
    while True:
        with aws_errors(f"describe operation {op} of StackSet {request.name}"):
            status = cfn.describe_stack_set_operation(StackSetName=request.name, OperationId=op, CallAs=request.call_as)["StackSetOperation"]
        if status["Status"] in DONE:
            break
        if time.monotonic() > deadline:
            raise AwsError(f"mlmon: StackSet {request.name}: operation {op} still {status['Status']} after {request.timeout_seconds:.0f} s")
        time.sleep(poll)
    result.operations.append(op)
    log(f"mlmon: operation {op}: {status['Status']}" + (f" ({status['StatusReason']})" if status.get("StatusReason") else ""))
    try:
        pages = cfn.get_paginator("list_stack_set_operation_results").paginate(StackSetName=request.name, OperationId=op,
                                                                                CallAs=request.call_as)
        for page in pages:
            for s in page.get("Summaries", []):
                result.instances.append(InstanceReport(s.get("Account", ""), s.get("Region", ""), s.get("Status", ""),
                                                       s.get("StatusReason", "")))
    except ClientError as exc:  # LocalStack 4.14 does not emulate ListStackSetOperationResults (measured)
        note = f"per-instance results unavailable ({error_code(exc)}); operation {op} {status['Status']}"
        result.notes.append(note)
        log(f"mlmon: {note}")
        if status["Status"] != "SUCCEEDED":
            raise AwsError(f"mlmon: StackSet {request.name}: operation {op} {status['Status']}: "
                           f"{status.get('StatusReason') or 'no reason given'}") from None


def report_lines(result: StackSetResult) -> list[str]:
    """One line per instance: account, Region, status, reason (stdout of `mlmon deploy --stack-set`)."""
    lines = [f"{i.account}\t{i.region}\t{i.status}\t{i.reason}".rstrip() for i in result.instances]
    return lines or [f"# {note}" for note in result.notes]


# --- delete ------------------------------------------------------------------------------------

def delete_stack_set(name: str, target: Target, groups: tuple[InstanceGroup, ...], log: Log, call_as: str = "SELF",
                     timeout_seconds: float = 3600.0, poll_seconds: float | None = None) -> StackSetResult:
    """Remove every instance (the listed ones, or all the StackSet has), then the StackSet itself.
    A StackSet that does not exist is success."""
    aws = Aws(target)
    cfn = aws.client("cloudformation")
    poll = poll_seconds if poll_seconds is not None else (0.5 if target.endpoint_url else 5.0)
    request = StackSetRequest(name, groups, target, call_as=call_as, timeout_seconds=timeout_seconds)
    result = StackSetResult(name, created=False)
    if not groups:
        have = _instances(cfn, name, call_as)
        by_region: dict[str, list[str]] = {}
        for account, region in sorted(have):
            by_region.setdefault(region, []).append(account)
        groups = tuple(InstanceGroup((region,), tuple(accounts)) for region, accounts in sorted(by_region.items()))
    for group in groups:
        args: dict[str, Any] = {"StackSetName": name, "Regions": list(group.regions), "RetainStacks": False, "CallAs": call_as}
        if group.organizational_units:
            args["DeploymentTargets"] = {"OrganizationalUnitIds": list(group.organizational_units)}
        else:
            args["Accounts"] = list(group.accounts)
        try:
            op = cfn.delete_stack_instances(**args)["OperationId"]
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
                log(f"mlmon: StackSet {name} does not exist: nothing to delete")
                return result
            raise AwsError(f"mlmon: cannot delete the instances of StackSet {name}: {error_code(exc)}: {error_message(exc)}") from None
        log(f"mlmon: deleting stack instances in {', '.join(group.accounts or group.organizational_units)} x "
            f"{', '.join(group.regions)} (operation {op})")
        _wait_operation(cfn, request, op, poll, log, result)
    try:
        cfn.delete_stack_set(StackSetName=name, CallAs=call_as)
    except ClientError as exc:
        if error_code(exc) not in NOT_FOUND:
            raise AwsError(f"mlmon: cannot delete StackSet {name}: {error_code(exc)}: {error_message(exc)}") from None
    log(f"mlmon: deleted StackSet {name}")
    return result
