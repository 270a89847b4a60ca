"""The monthly CloudWatch bill a generated template adds, read from the built templates.

What is priced (AWS list prices, US East (N. Virginia), `PRICES_DATE`; other Regions differ):
metric alarms by metric count (an anomaly-detection alarm counts 3: the metric and its band's
two bounds; standard resolution $0.10 per metric, high resolution, i.e.
Period under 60 s, $0.30), composite alarms $0.50, dashboards $3.00, custom metrics from log
metric filters $0.30 (first 10,000 tier), customer-managed KMS keys $1.00. Free tiers (10 alarm
metrics, 3 dashboards per account) are not applied: they are shared by the whole account.
What is not: usage-driven charges (SNS deliveries, log ingestion, X-Ray traces, API calls),
and mute rules (no list price found: [unverified], assumed free).

The same function prices any CloudFormation template (benchmarks/cost_vs_cdk.py prices
cdk-monitoring-constructs' synthesized template with it), so comparisons use one price list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The date these prices were recorded. They were not re-read from AWS on that date (this project's
# machines reach no AWS endpoint): [unverified] until settled with
#   aws pricing get-products --region us-east-1 --service-code AmazonCloudWatch \
#       --filters Type=TERM_MATCH,Field=regionCode,Value=us-east-1
# (and --service-code awskms); update PRICES and this date when they differ.
PRICES_DATE = "2026-12-01"
PRICES_SOURCE = "AWS list prices, US East (N. Virginia): aws.amazon.com/cloudwatch/pricing, aws.amazon.com/kms/pricing"
PRICES = {  # item -> (USD per unit and month, unit)
    "metric alarm (standard resolution)": (0.10, "alarm metric"),
    "metric alarm (high resolution)": (0.30, "alarm metric"),
    "composite alarm": (0.50, "alarm"),
    "dashboard": (3.00, "dashboard"),
    "custom metric (log metric filter)": (0.30, "metric"),
    "KMS customer-managed key": (1.00, "key"),
}
SOLUTION = "(solution)"  # owner of the resources no single component owns


@dataclass
class Bill:
    """Monthly estimate: counts and amounts per priced item, and the amount per owner (component)."""

    counts: dict[str, int] = field(default_factory=dict)
    per_component: dict[str, float] = field(default_factory=dict)

    @property
    def lines(self) -> list[tuple[str, int, float, float]]:
        """(item, count, unit price, amount) for every priced item present, in price-list order."""
        return [(item, self.counts[item], PRICES[item][0], round(self.counts[item] * PRICES[item][0], 2))
                for item in PRICES if self.counts.get(item)]

    @property
    def total(self) -> float:
        return round(sum(amount for *_, amount in self.lines), 2)

    def add(self, item: str, count: int, owner: str) -> None:
        if count:
            self.counts[item] = self.counts.get(item, 0) + count
            self.per_component[owner] = round(self.per_component.get(owner, 0.0) + count * PRICES[item][0], 2)

    def count(self, *prefixes: str) -> int:
        return sum(n for item, n in self.counts.items() if item.startswith(prefixes))

    def to_dict(self) -> dict[str, Any]:
        """For `mlmon plan --format json`: total, items with unit prices, per component, price date."""
        return {"total": self.total, "currency": "USD", "period": "month", "prices_date": PRICES_DATE, "source": PRICES_SOURCE,
                "items": [{"item": item, "count": count, "unit_price": price, "amount": amount}
                          for item, count, price, amount in self.lines],
                "per_component": dict(sorted(self.per_component.items()))}

    def markdown(self) -> str:
        """For `mlmon plan`: a table of the priced items and one of the components."""
        out = [f"**${self.total:,.2f} a month** (AWS list prices of {PRICES_DATE}, us-east-1; usage such as SNS "
               "deliveries and log ingestion not included)", "", "| item | count | unit price | amount |", "|---|---|---|---|"]
        out += [f"| {item} | {count:,} | ${price:.2f} | ${amount:,.2f} |" for item, count, price, amount in self.lines]
        out += ["", "| component | $/month |", "|---|---|"]
        out += [f"| {owner} | ${amount:,.2f} |" for owner, amount in sorted(self.per_component.items(), key=lambda kv: (-kv[1], kv[0]))]
        return "\n".join(out) + "\n"

    def text(self, top: int = 25) -> list[str]:
        """Lines for the terminal: total, each priced item, then the owners (the `top` most expensive)."""
        out = [f"estimated CloudWatch bill: ${self.total:,.2f} a month (list prices of {PRICES_DATE}, us-east-1; "
               "usage such as SNS deliveries and log ingestion not included)"]
        for item, count, price, amount in self.lines:
            out.append(f"  {item}: {count:,} x ${price:.2f} = ${amount:,.2f}")
        ranked = sorted(self.per_component.items(), key=lambda kv: (-kv[1], kv[0]))
        for owner, amount in ranked[:top]:
            out.append(f"  {owner}: ${amount:,.2f}")
        if len(ranked) > top:
            rest = ranked[top:]
            out.append(f"  {len(rest):,} more components: ${sum(a for _, a in rest):,.2f}")
        return out


def _alarm_metrics(props: dict[str, Any]) -> int:
    """Billed alarm metrics: each metric a `Metrics` alarm reads; an anomaly band adds its two bounds."""
    metrics = props.get("Metrics")
    if isinstance(metrics, list):
        count = max(1, sum(1 for m in metrics if isinstance(m, dict) and "MetricStat" in m))
        bands = sum(1 for m in metrics if isinstance(m, dict) and "ANOMALY_DETECTION_BAND" in str(m.get("Expression", "")))
        return count + 2 * bands
    return 1


def price_template(template: dict[str, Any], bill: Bill, owners: dict[str, str] | None = None) -> Bill:
    """Add one template's (as a dict) billable resources to `bill`; `owners` maps logical IDs to components."""
    owners = owners or {}
    for logical, resource in template.get("Resources", {}).items():
        if not isinstance(resource, dict):  # a user's entry of another shape (merged output): nothing billed
            continue
        kind, props = resource.get("Type"), resource.get("Properties")
        props = props if isinstance(props, dict) else {}
        owner = owners.get(logical, SOLUTION)
        if kind == "AWS::CloudWatch::Alarm":
            period = props.get("Period")
            high = isinstance(period, int) and period < 60
            bill.add(f"metric alarm ({'high' if high else 'standard'} resolution)", _alarm_metrics(props), owner)
        elif kind == "AWS::CloudWatch::CompositeAlarm":
            bill.add("composite alarm", 1, owner)
        elif kind == "AWS::CloudWatch::Dashboard":
            bill.add("dashboard", 1, owner)
        elif kind == "AWS::Logs::MetricFilter":
            transformations = props.get("MetricTransformations")
            bill.add("custom metric (log metric filter)", len(transformations) if isinstance(transformations, list) else 1, owner)
        elif kind == "AWS::KMS::Key":
            bill.add("KMS customer-managed key", 1, owner)
    return bill


def estimate(result: Any) -> Bill:
    """The bill of a BuildResult: the parent and every nested template, per component."""
    bill = Bill()
    owners = getattr(result, "owners", {})
    for template in [result.template, *result.nested.values()]:
        price_template(_priced_view(template), bill, owners)
    return bill


def _priced_view(template: Any) -> dict[str, Any]:
    """Just the parts of a troposphere template the prices depend on, without encoding every resource
    (a full `to_dict` of a 5,000-component output costs seconds; the writer encodes it anyway)."""
    resources = {}
    theirs: frozenset[str] = getattr(template, "theirs", frozenset())  # merged output: the app's own keys and alarms are not mlmon's bill
    for logical, resource in template.resources.items():
        if logical in theirs:
            continue
        if not hasattr(resource, "resource_type"):  # a merged output's resources (the user's template) are plain data
            resources[logical] = resource
            continue
        props = resource.properties
        view: dict[str, Any] = {}
        if resource.resource_type == "AWS::CloudWatch::Alarm":
            view["Period"] = props.get("Period")
            if "Metrics" in props:
                view["Metrics"] = [m.to_dict() if hasattr(m, "to_dict") else m for m in props["Metrics"]]
        elif resource.resource_type == "AWS::Logs::MetricFilter":
            view["MetricTransformations"] = list(props.get("MetricTransformations", []))
        resources[logical] = {"Type": resource.resource_type, "Properties": view}
    return {"Resources": resources}
