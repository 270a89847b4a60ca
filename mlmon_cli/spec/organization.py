"""`organization:`: one spec, many accounts and Regions, one place that says where it failed.

```yaml
organization:
  central_account: "999999999999"        # receives every member's alarm state changes and job failures
  central_region: eu-west-1
  member_accounts: ["111111111111", "222222222222"]   # the central bus admits these accounts...
  organization_id: o-a1b2c3d4e5            # ...or every account of the organization
  notifications: {emails: [platform-oncall@example.com]}   # the central recipients (same keys as a route)
  targets:                                 # where `mlmon deploy --stack-set` puts instances
    - accounts: ["111111111111"]
      regions: [eu-west-1, us-east-1]
      parameters: {EndpointName: churn-scoring-dev}       # StackSet ParameterOverrides for these instances
    - organizational_units: [ou-ab12-cdef3456]
      regions: [eu-west-1]
```

Member stacks keep their own `notifications:` (local recipients stay optional, not removed) and
forward to the central account's event bus; `mlmon deploy --central` deploys the receiving side.
The checks here are the shapes AWS accepts (12-digit accounts, Region names, `o-` and `ou-` IDs);
whether the accounts exist is for the deploy to find out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .fields import doc

ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")  # Organizations API: o-[a-z0-9]{10,32}
OU_ID = re.compile(r"^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$")  # an OU or the root


@dataclass(frozen=True)
class StackSetTarget:
    """Accounts (or OUs) x Regions that get one stack instance each, with their own parameter values."""

    regions: tuple[str, ...] = field(metadata=doc("Regions of the instances, e.g. [eu-west-1, us-east-1]."))
    accounts: tuple[str, ...] = field(default=(), metadata=doc("12-digit account IDs (self-managed permissions)."))
    organizational_units: tuple[str, ...] = field(default=(), metadata=doc(
        "OU IDs (`ou-...`, or the root `r-...`): service-managed permissions, every account of the OU and accounts that join later."))
    parameters: tuple[tuple[str, str], ...] = field(default=(), metadata=doc(
        "Values of the spec's `parameters:` for these instances (StackSet ParameterOverrides), e.g. {EndpointName: scoring-dev}.",
        type="mapping"))


@dataclass(frozen=True)
class Organization:
    """Where a multi-account solution reports: the central account and Region, who may send there, and the targets."""

    central_account: str = field(metadata=doc("The account that receives every member's alarm state changes and job failures."))
    central_region: str = field(metadata=doc("The Region of the central event bus and topic."))
    member_accounts: tuple[str, ...] = field(default=(), metadata=doc(
        "Accounts the central event bus admits (or give `organization_id`)."))
    organization_id: str | None = field(default=None, metadata=doc(
        "Admit every account of this AWS Organization (`o-...`) to the central event bus."))
    notifications: Any = field(default=None, metadata=doc(
        "The central recipients: the same keys as `notifications` (emails, https_endpoints, lambda_arns, slack, topic_arn)."))
    targets: tuple[StackSetTarget, ...] = field(default=(), metadata=doc(
        "Where `mlmon deploy --stack-set` creates instances: `accounts` or `organizational_units`, `regions`, `parameters`.",
        type="list of targets"))

    @property
    def service_managed(self) -> bool:
        """OUs in any target: the StackSet uses service-managed permissions (AWS Organizations)."""
        return any(t.organizational_units for t in self.targets)

    def instances(self) -> list[tuple[str, str]]:
        """(account or OU, Region) pairs the targets name, in spec order."""
        return [(who, region) for t in self.targets for who in (*t.accounts, *t.organizational_units) for region in t.regions]


def account_problem(value: str) -> str:
    return "" if ACCOUNT_ID.fullmatch(value) else f"'{value}' is not a 12-digit AWS account ID (quote it: \"012345678901\")"


def region_problem(value: str) -> str:
    return "" if REGION.fullmatch(value) else f"'{value}' is not an AWS Region name (e.g. eu-west-1)"


def ou_problem(value: str) -> str:
    return "" if OU_ID.fullmatch(value) else f"'{value}' is not an organizational unit ID (ou-xxxx-xxxxxxxx) or root ID (r-xxxx)"
