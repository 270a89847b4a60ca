"""`mlmon delete`: delete a stack and wait until it is gone, printing its events.

A stack that does not exist is success (nothing to delete), as in `aws cloudformation
delete-stack`. DELETE_FAILED raises `AwsError` (exit 5) with each resource that could not be
deleted and CloudFormation's reason. Nothing here prints: progress goes to the `log` callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..errors import AwsError
from .deploy import FailedSettle, Progress, _describe_stack, _failed, _new_events, format_event
from .session import Aws, Target, aws_errors, error_message

Log = Callable[[str], None]


@dataclass(frozen=True)
class DeleteRequest:
    stack_name: str
    target: Target = Target()
    timeout_seconds: float = 3600.0
    poll_seconds: float | None = None  # default: 0.5 s against --endpoint-url, else 2 s


@dataclass
class DeleteResult:
    stack_name: str
    status: str  # DELETE_COMPLETE, or "" when there was nothing to delete
    seconds: float = 0.0


def delete_stack(request: DeleteRequest, log: Log) -> DeleteResult:
    aws = Aws(request.target)
    cfn = aws.client("cloudformation")
    poll = request.poll_seconds if request.poll_seconds is not None else (0.5 if request.target.endpoint_url else 2.0)
    started = time.monotonic()
    name = request.stack_name
    stack = _describe_stack(cfn, name)
    if stack is None:
        log(f"mlmon: stack {name} does not exist: nothing to delete")
        return DeleteResult(name, "")
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS") and status not in ("REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS"):
        raise AwsError(f"mlmon: stack {name} is busy ({status}); wait until it finishes and delete it again")
    stack_id = stack["StackId"]
    seen = {e["EventId"] for e in _events(cfn, stack_id)}
    with aws_errors(f"delete stack {name}"):
        cfn.delete_stack(StackName=stack_id)
    log(f"mlmon: deleting stack {name} ({status}); stack events follow")
    deadline = started + request.timeout_seconds
    events: list[dict[str, Any]] = []
    progress = Progress(log, "mlmon: still waiting for the deletion")
    settle = FailedSettle()
    while True:
        fresh = _gone_or(lambda: _new_events(cfn, stack_id, seen), [])
        for event in fresh:
            events.append(event)
            log(format_event(event))
            progress.seen()
            settle.event(event)
        current = _gone_or(lambda: cfn.describe_stacks(StackName=stack_id)["Stacks"][0], None)
        status = current["StackStatus"] if current else "DELETE_COMPLETE"
        if status == "DELETE_COMPLETE":
            elapsed = time.monotonic() - started
            log(f"mlmon: stack {name}: DELETE_COMPLETE in {elapsed:.1f} s")
            return DeleteResult(name, status, elapsed)
        if status == "DELETE_FAILED" and settle.final(status):
            events += _gone_or(lambda: _new_events(cfn, stack_id, seen), [])
            lines = [f"mlmon: delete of stack {name} failed: DELETE_FAILED"
                     + (f" ({current['StackStatusReason']})" if current and current.get("StackStatusReason") else "")]
            lines += [f"  {logical} ({kind}): {st}: {reason}" for logical, kind, st, reason in dict.fromkeys(_failed(events))]
            lines.append(f"mlmon: fix the resources above, or keep them: aws cloudformation delete-stack --stack-name {name} "
                         "--retain-resources LOGICAL_ID...")
            raise AwsError("\n".join(lines))
        if time.monotonic() > deadline:
            raise AwsError(f"mlmon: stack {name} still {status} after {request.timeout_seconds:.0f} s; "
                           "CloudFormation carries on: follow it in the console")
        progress.tick(status)
        time.sleep(poll)


def _events(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    with aws_errors("describe stack events"):
        return cfn.describe_stack_events(StackName=stack_id).get("StackEvents") or []


def _gone_or(call: Callable[[], Any], default: Any) -> Any:
    """`call()`, or `default` when the stack no longer exists (some endpoints forget deleted stacks)."""
    try:
        return call()
    except AwsError as exc:
        if "does not exist" in str(exc):
            return default
        raise
    except ClientError as exc:
        if "does not exist" in error_message(exc):
            return default
        raise
