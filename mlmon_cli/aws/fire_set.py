"""`mlmon fire --stack-set NAME`: prove the alert path of every stack instance of a StackSet.

For each instance (account, Region): assume a role in the member account, find the instance's
stack, and do there exactly what `mlmon fire` does for one stack (fire.py). One line per instance
says what was fired and which topics were reached; an instance that could not be fired (no role,
no stack) is FAILED and the command exits 5.

Which instances: `--accounts` x `--regions` when given, else every instance `ListStackInstances`
lists in the administrator account (LocalStack 4.14 does not list the instances of a StackSet
made by its v2 engine: give the targets there). Which role: `--role-name`, else the StackSet's
execution role (`ExecutionRoleName`, AWSCloudFormationStackSetExecutionRole by default). AWS's
self-managed execution role trusts the administrator account (aws-ml-facts-3 §4), so the
administrator that deployed the StackSet can fire it; the roles of service-managed StackSets
trust only StackSets itself: name a role the administrator may assume (e.g.
OrganizationAccountAccessRole) with --role-name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import AwsError, AwsUsageError
from .fire import FireRequest, FireResult, fire, unheard
from .session import Aws, Target, aws_errors, error_code, error_message

Log = Callable[[str], None]
DEFAULT_EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"
SESSION_NAME = "mlmon-fire"
ACTIVE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True)
class FireSetRequest:
    stack_set: str
    target: Target = Target()  # the administrator account's credentials, Region and endpoint
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    role_name: str | None = None
    call_as: str = "SELF"
    patterns: tuple[str, ...] = ()
    wait_seconds: float = 10.0


@dataclass
class InstanceFire:
    """What `fire` did in one stack instance; `error` when it could not run there."""

    account: str
    region: str
    stack: str = ""
    result: FireResult | None = None
    error: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "FAILED"
        return "UNHEARD" if self.result is not None and unheard(self.result) else "FIRED"


@dataclass
class FireSetResult:
    stack_set: str
    instances: list[InstanceFire] = field(default_factory=list)

    @property
    def failed(self) -> list[InstanceFire]:
        return [i for i in self.instances if i.status == "FAILED"]


def fire_stack_set(request: FireSetRequest, log: Log) -> FireSetResult:
    if bool(request.accounts) != bool(request.regions):
        raise AwsUsageError("mlmon: fire --stack-set: give both --accounts and --regions, or neither (every instance)")
    admin = Aws(request.target)
    cfn = admin.client("cloudformation")
    stack_set = _describe(cfn, request, log)
    role = request.role_name or stack_set.get("ExecutionRoleName") or DEFAULT_EXECUTION_ROLE
    if stack_set.get("PermissionModel") == "SERVICE_MANAGED" and not request.role_name:
        raise AwsUsageError(f"mlmon: StackSet {request.stack_set} has service-managed permissions: its execution roles trust only "
                            "StackSets; give --role-name, a role in each member account the administrator may assume "
                            "(e.g. OrganizationAccountAccessRole)")
    with aws_errors("read the caller's identity"):
        partition = admin.client("sts").get_caller_identity()["Arn"].split(":")[1]
    instances = _targets(cfn, request)
    result = FireSetResult(request.stack_set)
    for account, region, stack_id in instances:
        one = InstanceFire(account, region)
        result.instances.append(one)
        try:
            member = _assume(admin, request.target, f"arn:{partition}:iam::{account}:role/{role}", region)
            one.stack = stack_id or _instance_stack(Aws(member).client("cloudformation"), request.stack_set, account, region)
            one.result = fire(FireRequest(one.stack, member, request.patterns, request.wait_seconds), _prefixed(log, f"{account} {region}: "))
        except AwsError as exc:
            one.error = str(exc).removeprefix("mlmon: ")
            log(f"mlmon: {account} {region}: {one.error}")
    return result


def _prefixed(log: Log, prefix: str) -> Log:
    """`fire`'s progress lines, each naming the instance it is about."""
    return lambda line: log(prefix + line)


def _describe(cfn: Any, request: FireSetRequest, log: Log) -> dict[str, Any]:
    """The StackSet (its execution role and permission model). Not found: an error, unless the
    instances are given (LocalStack 4.14 describes no StackSet of its v2 engine): then each
    instance is looked for, with the default role, and one that is not there is FAILED."""
    from .stackset import _describe_stack_set

    found = _describe_stack_set(cfn, request.stack_set, request.call_as)
    if found is None and not (request.accounts and request.regions):
        raise AwsError(f"mlmon: StackSet {request.stack_set} does not exist (check --stack-set, --region and the account)")
    if found is None:
        log(f"mlmon: DescribeStackSet does not find StackSet {request.stack_set}: firing the given instances, "
            f"assuming role {request.role_name or DEFAULT_EXECUTION_ROLE}")
    return found or {}


def _targets(cfn: Any, request: FireSetRequest) -> list[tuple[str, str, str]]:
    """(account, Region, stack ID or '') of the instances to fire: the listed ones (only those of
    --accounts x --regions when given). Without ListStackInstances (LocalStack) the given targets
    are fired all the same, each instance's stack found in its account by name."""
    from botocore.exceptions import ClientError

    given = [(a, r) for a in request.accounts for r in request.regions]
    listed: dict[tuple[str, str], str] = {}
    try:
        pages = cfn.get_paginator("list_stack_instances").paginate(
            StackSetName=request.stack_set, CallAs=request.call_as)
        for page in pages:
            listed.update({(s["Account"], s["Region"]): s.get("StackId") or "" for s in page.get("Summaries") or []})
    except ClientError as exc:
        if not given:
            raise AwsError(f"mlmon: cannot list the instances of StackSet {request.stack_set}: {error_code(exc)}: "
                           f"{error_message(exc)}; give them with --accounts and --regions") from None
        return [(a, r, "") for a, r in given]
    if not given and not listed:
        raise AwsError(f"mlmon: StackSet {request.stack_set} has no stack instances")
    return [(a, r, listed.get((a, r), "")) for a, r in (given or sorted(listed))]


def _assume(admin: Aws, target: Target, role_arn: str, region: str) -> Target:
    """Credentials of `role_arn` (the member account), as a target in the instance's Region."""
    with aws_errors(f"assume {role_arn}"):
        creds = admin.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    return replace(target, region=region, profile=None,
                   credentials=(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))


def _instance_stack(cfn: Any, stack_set: str, account: str, region: str) -> str:
    """The instance's stack when no listing gave its ID: AWS names it StackSet-NAME-<uuid>,
    LocalStack sset-NAME-ACCOUNT-REGION."""
    names = (f"StackSet-{stack_set}-", f"sset-{stack_set}-{account}-{region}")
    with aws_errors("list stacks"):
        pages = cfn.get_paginator("list_stacks").paginate(StackStatusFilter=list(ACTIVE))
        found = sorted(s["StackName"] for page in pages for s in page.get("StackSummaries") or []
                       if s["StackName"].startswith(names[0]) or s["StackName"] == names[1])
    if len(found) != 1:
        raise AwsError(f"mlmon: {'no' if not found else 'more than one'} stack of StackSet {stack_set} in {account} {region}"
                       + (f" ({', '.join(found)})" if found else ""))
    return found[0]


def report_lines(result: FireSetResult) -> list[str]:
    """One line per instance (stdout): account, Region, FIRED|UNHEARD|FAILED, what was fired and reached."""
    lines = []
    for one in result.instances:
        if one.result is None:
            lines.append(f"{one.account}\t{one.region}\tFAILED\t{one.error}")
            continue
        fired = [f for f in one.result.fired if f.fired]
        subs = one.result.subscriptions
        confirmed = sum(not s.pending for s in subs)
        reached = ", ".join(one.result.topics) or "no topic"
        detail = (f"{len(fired)} of {len(one.result.fired)} alarm(s) fired and restored; reached {reached} "
                  f"({confirmed} confirmed, {len(subs) - confirmed} pending subscription(s))")
        silent = unheard(one.result)
        if silent:
            detail += f"; reach nobody: {', '.join(silent[:5])}" + (f" and {len(silent) - 5} more" if len(silent) > 5 else "")
        name = one.stack.split("/")[1] if one.stack.startswith("arn:") else one.stack
        lines.append(f"{one.account}\t{one.region}\t{one.status}\t{name}: {detail}")
    return lines
