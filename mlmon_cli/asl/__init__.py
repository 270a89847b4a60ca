"""Amazon States Language helpers: harden (add Retry/Catch), check (lint) and load/dump.

Everything here is pure except :mod:`.io`, which only converts between text and dicts; reading
and writing files is left to the CLI.
"""

from .check import RULES, AslFinding, check_definition
from .harden import HardenChange, HardenResult, harden_definition
from .io import AslLoadError, dump_asl, load_asl
from .retry_policies import RetryPolicy, policy_for_resource

__all__ = [
    "RULES",
    "AslFinding",
    "AslLoadError",
    "HardenChange",
    "HardenResult",
    "RetryPolicy",
    "check_definition",
    "dump_asl",
    "harden_definition",
    "load_asl",
    "policy_for_resource",
]
