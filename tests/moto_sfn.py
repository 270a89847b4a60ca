"""Run state machines in moto's own ASL interpreter (moto 5.2.1, unpatched) and read what they sent.

moto executes definitions in-process (moto/stepfunctions/parser, a LocalStack port) with real
Retry/Catch semantics. Two things are replaced, neither in the interpreter's logic:

* the retrier's `time.sleep` (moto/.../retry/retrier_decl.py) records the interval instead of
  waiting, so tests assert the exact backoff sequence in milliseconds of wall time;
* nothing else: faults are injected in AWS *backends* by the tests themselves when needed.

moto deep-copies a state machine (with its backend, hence every earlier execution and its lock) at
each StartExecution, which fails once any execution exists; `run` therefore deletes the state
machine after its execution ends, so one sandbox can run many executions.
"""

from __future__ import annotations

import itertools
import json
import time
import types
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn"


@dataclass
class Execution:
    """A finished execution: describe_execution output plus its history events."""

    desc: dict
    events: list[dict]

    @property
    def status(self) -> str:
        return self.desc["status"]

    def entered(self) -> list[str]:
        """Names of the states entered, in order (retries of a state are not re-entries)."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if "stateEnteredEventDetails" in e]


@dataclass
class Sandbox:
    clients: dict[str, Any]
    slept: list[float] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.clients[name]
        except KeyError:
            raise AttributeError(name) from None

    def topic_with_queue(self, name: str) -> tuple[str, str]:
        """An SNS topic with a raw-delivery SQS subscription: (topic ARN, queue URL)."""
        topic = self.sns.create_topic(Name=name)["TopicArn"]
        queue = self.sqs.create_queue(QueueName=f"{name}-q")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        return topic, queue

    def messages(self, queue: str) -> list[str]:
        got = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [m["Body"] for m in got]

    def run(self, definition: dict | str, payload: Any = None, *, name: str = "wf", execution: str = "run1",
            machine_type: str = "STANDARD") -> Execution:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        machine = self.sfn.create_state_machine(name=f"{name}{next(self._ids) or ''}", definition=text, roleArn=ROLE,
                                                type=machine_type)["stateMachineArn"]
        arn = self.sfn.start_execution(stateMachineArn=machine, name=execution, input=json.dumps({} if payload is None else payload))["executionArn"]
        deadline = time.monotonic() + 60
        while (desc := self.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.02)
        events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        self.sfn.delete_state_machine(stateMachineArn=machine)
        return Execution(desc, events)


@pytest.fixture
def sandbox(monkeypatch) -> Iterator[Sandbox]:
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    retrier = pytest.importorskip("moto.stepfunctions.parser.asl.component.common.retry.retrier_decl")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with moto.mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        box = Sandbox({s: boto3.client(s, region_name=REGION) for s in ("sns", "sqs", "stepfunctions", "glue", "sagemaker")})
        box.clients["sfn"] = box.clients["stepfunctions"]
        monkeypatch.setattr(retrier, "time", types.SimpleNamespace(sleep=box.slept.append))
        yield box
