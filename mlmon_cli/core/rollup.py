"""Who hears which alarm: the rollup design (README "How alarms roll up").

Three rules, each from a measurement on real deployments:

1. **No masking.** A composite notifies only when its state changes; while one child stays in
   ALARM, every other child's failure is silent. An alarm that is in ALARM for hours by design
   (*long-lived*: missing data is breaching, as in "no success in N hours", or a period of an
   hour or more, as in Model Monitor drift) therefore never shares a notifying composite with
   failure alarms: it notifies itself (a Model Monitor group of 2+ has its own composite).
2. **No composite that buys nothing.** A composite with a single child is that child with a
   $0.50 monthly fee: the child notifies directly. Composites nobody is notified by are not
   built (solution composites exist only with `rollup: solution` or `notify_solution`).
3. **Every alarm has an action, none of them noise.** AWS Control Tower's CT.CLOUDWATCH.PR.1
   requires AlarmActions on every metric alarm. An alarm that reaches people through a composite
   sends its own state changes to the solution's alarm-history topic, which has no subscriber
   (attach a ticketing system or an audit log to it if you want them).

`notifications.rollup` trades composites for cost: `component` (default) one notifying composite
per component and severity with 2+ failure alarms; `solution` one per severity for the whole
solution; `none` no composite, every alarm notifies itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import limits
from ..components.settings import AlarmSettings
from ..spec.model import Spec
from .composites import AlarmRef

HISTORY = "history"  # key of the alarm-history topic in the topics mapping


@dataclass
class Pending:
    """A metric alarm whose actions are decided once the whole hierarchy is known."""

    resource: Any  # the troposphere Alarm
    severity: str
    long_lived: bool
    text: Callable[..., str]  # AlarmDescription for (notifies, composite)
    notify: bool = False  # notifies its severity's topic itself
    warm_up: int = 0  # minutes of WarmUpConfiguration (0: none)
    parent: str = ""  # the notifying composite it reaches people through


def long_lived(s: AlarmSettings) -> bool:
    """In ALARM for hours by design: missing data breaching (absence) or hour-long periods."""
    return s.treat_missing_data == "breaching" or s.period >= 3600


def warm_up_minutes(s: AlarmSettings) -> int:
    """An absence alarm has no history right after deploy: without a warm-up it would page at once.

    The warm-up covers its whole window (capped at CloudWatch's 2,880 minutes): during it the
    alarm stays INSUFFICIENT_DATA and runs no actions, after create and after every update.
    """
    if s.treat_missing_data != "breaching":
        return 0
    return max(limits.WARM_UP_MINUTES_MIN, min(limits.WARM_UP_MINUTES_MAX, s.period * s.evaluation_periods // 60))


def solution_composites(spec: Spec) -> bool:
    """Whether the solution-wide composites are built (only when they notify)."""
    n = spec.notifications
    return n.rollup == "solution" or (n.notify_solution and n.rollup != "none")


def component(spec: Spec, children: dict[str, list[AlarmRef]], pending: dict[str, Pending],
              make_composite: Callable[[str, list[AlarmRef]], AlarmRef]) -> dict[str, list[AlarmRef]]:
    """Route one component's alarms; return, per severity, what it shows and rolls up further.

    Long-lived alarms notify directly. Failure alarms: `component` rollup makes one composite of
    2+ (a single one notifies itself); `solution` leaves them to the solution composite; `none`
    lets each notify itself.
    """
    heads: dict[str, list[AlarmRef]] = {}
    for severity, refs in children.items():
        failures = []
        for ref in refs:
            p = pending.get(ref.logical_id)
            if p is not None and p.long_lived:
                p.notify = True
            else:
                failures.append(ref)
        mode = spec.notifications.rollup
        if mode == "none" or (mode == "component" and len(failures) == 1):
            for ref in failures:
                pending[ref.logical_id].notify = True
            heads[severity] = failures
        elif mode == "component" and failures:
            composite = make_composite(severity, failures)
            for ref in failures:
                pending[ref.logical_id].parent = composite.name
            heads[severity] = [composite]
        elif failures:  # solution
            from .. import naming

            for ref in failures:
                pending[ref.logical_id].parent = naming.alarm_name(spec.solution, severity.capitalize())
            heads[severity] = failures
    return heads


def group_composite(spec: Spec, refs: list[AlarmRef], pending: dict[str, Pending], name: str) -> bool:
    """Whether a group of long-lived alarms (e.g. ModelHealth) gets its own notifying composite:
    2+ alarms and a rollup other than `none`; otherwise each notifies itself."""
    if spec.notifications.rollup == "none" or len(refs) < 2:
        for ref in refs:
            pending[ref.logical_id].notify = True
        return False
    for ref in refs:
        pending[ref.logical_id].parent = name
    return True


def single_children_notify(by_severity: dict[str, list[AlarmRef]], pending: dict[str, Pending]) -> None:
    """A solution-wide severity with a single alarm gets no composite: that alarm notifies itself."""
    for children in by_severity.values():
        if len(children) == 1 and children[0].logical_id in pending:
            pending[children[0].logical_id].notify = True


def route(pending: dict[str, Pending], topics: dict[str, Any], spec: Spec) -> None:
    """Write every metric alarm's actions, description and warm-up."""
    n = spec.notifications
    for p in pending.values():
        props = p.resource.properties
        if p.notify:
            props["AlarmActions"] = [topics[p.severity]]
            if n.ok_notifications:
                props["OKActions"] = [topics[p.severity]]
            props["AlarmDescription"] = p.text(notifies=True)
        else:
            props["AlarmActions"] = [topics[HISTORY]]
            props["AlarmDescription"] = p.text(notifies=False, composite=p.parent)
        if n.insufficient_data_actions:
            props["InsufficientDataActions"] = [topics[HISTORY]]
        if p.warm_up:
            props["WarmUpConfiguration"] = {"WarmUpPeriodDurationInMinutes": p.warm_up,
                                            "OnlyStartEvaluatingAfterWarmUpPeriodEnds": True}
