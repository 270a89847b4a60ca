"""Which spec key sets each alarm's threshold, and in which unit (for the patch).

Only the kinds' table alarms are set by `components[i].alarms.<key>.threshold`; alarms built
from options (Model Monitor, staleness), log patterns, custom alarms and mlmon's own alert-path
alarms are reported without a spec key. The spec's unit differs from the metric's for some
alarms (ms in the spec, µs in SageMaker's latency metrics): `scale` converts.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import naming
from ..components import load_all
from ..spec.model import Spec


@dataclass(frozen=True)
class SpecThreshold:
    component_index: int
    component: str
    key: str
    scale: float  # metric value = spec value * scale
    unit: str
    environment: str | None = None  # set: the threshold is written as that environment's override

    @property
    def path(self) -> str:
        if self.environment:
            return f"environments.{self.environment}.components.{self.component}.alarms.{self.key}.threshold"
        return f"components[{self.component_index}].alarms.{self.key}.threshold"

    def to_spec(self, metric_value: float) -> float:
        value = metric_value / self.scale if self.scale else metric_value
        return float(f"{value:.6g}")


def threshold_keys(spec: Spec) -> dict[str, SpecThreshold]:
    """Alarm name -> the spec key of its threshold, for every table alarm the spec builds (with an
    environment applied: its alarm names, and its override as the key, so the base stays as it is)."""
    kinds = load_all()
    solution = naming.scoped_solution(spec.solution, spec.environment, spec.name_suffix)
    found: dict[str, SpecThreshold] = {}
    for index, comp in enumerate(spec.components):
        kind = kinds[comp.kind]()
        for alarm in kind.alarms:
            if alarm.is_event or not kind.applies(comp.options, alarm):
                continue
            scale = kind.metric_threshold(comp.options, alarm, 1.0)
            for target in kind.alarm_targets(comp.options, alarm):
                name = naming.alarm_name(solution, comp.name, target.label, alarm.suffix)
                found[name] = SpecThreshold(index, comp.name, alarm.key, scale, alarm.metric.unit, spec.environment)
    return found
