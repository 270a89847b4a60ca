"""AWS limits and rules mlmon checks (the lowest layer: constants and small pure functions only)."""

from __future__ import annotations

INLINE_TEMPLATE_BYTES = 51_200  # template body passed inline (TemplateBody)
MAX_ALARM_ACTIONS = 5  # per action list (AlarmActions, OKActions, InsufficientDataActions)
MAX_COMPOSITE_CHILDREN = 100
MAX_RULE_TARGETS = 5
