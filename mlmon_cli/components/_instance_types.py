"""vCPUs and GPUs per SageMaker `ml.*` instance type: the scale of utilization thresholds.

SageMaker publishes `CPUUtilization` and `GPUUtilization` of an endpoint instance as the sum over
its vCPUs / GPUs (0-100 % each, so up to 800 % on 8 vCPUs): `monitoring-cloudwatch`
(aws-ml-facts-3.md §0). A per-core threshold must be multiplied by the counts below.

Source: the SageMaker AI pricing page's instance details (https://aws.amazon.com/sagemaker/ai/pricing/,
vCPU and GPU columns); an `ml.<type>` runs on the EC2 instance type `<type>`, so the counts are
those of https://aws.amazon.com/ec2/instance-types/ (accelerated computing: GPU counts). The names
are the `ProductionVariantInstanceType` enum of the SageMaker API model (botocore 1.44.8); types
whose counts were not confirmed on those pages (g7, g7e, p6-b300, p6e-gb200) are left out, so a
spec naming them is told the counts are assumed. AWS Inferentia, Trainium and Gaudi accelerators
(inf*, trn*, dl1) are not GPUs: they publish no `GPUUtilization`.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = ("SageMaker AI pricing, instance details (https://aws.amazon.com/sagemaker/ai/pricing/); EC2 instance types "
          "(https://aws.amazon.com/ec2/instance-types/)")


@dataclass(frozen=True)
class InstanceSize:
    vcpus: int
    gpus: int = 0


def _sizes(table: str, gpus: dict[str, int] | None = None) -> dict[str, InstanceSize]:
    """'large:2 xlarge:4 ...' -> {size: InstanceSize}, GPU counts from `gpus` (size -> count)."""
    pairs = (item.split(":") for item in table.split())
    return {size: InstanceSize(int(vcpus), (gpus or {}).get(size, 0)) for size, vcpus in pairs}


# The common size ladder (vCPUs = 4 x the xlarge multiple); families differ in which sizes exist.
_LADDER = {"medium": 1, "large": 2, "xlarge": 4, **{f"{n}xlarge": 4 * n for n in (2, 4, 6, 8, 9, 10, 12, 16, 18, 24, 32, 48)}}


def _ladder(*sizes: str, gpus: dict[str, int] | None = None) -> dict[str, InstanceSize]:
    return {size: InstanceSize(_LADDER[size], (gpus or {}).get(size, 0)) for size in sizes}


_CPU_7 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")
_GRAVITON_2 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_G5_GPUS = {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8}
_G5_SIZES = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")

FAMILIES: dict[str, dict[str, InstanceSize]] = {
    "t2": _sizes("medium:2 large:2 xlarge:4 2xlarge:8"),
    "m4": _ladder("xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"),
    "m5": _ladder("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "m5d": _ladder("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "c4": _sizes("large:2 xlarge:4 2xlarge:8 4xlarge:16 8xlarge:36"),
    "c5": _ladder("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"),
    "c5d": _ladder("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "18xlarge"),
    "r5": _ladder("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "r5d": _ladder("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    **{f: _ladder("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge")
       for f in ("c6i", "m6i", "r6i", "c6in")},
    **{f: _ladder(*_CPU_7) for f in ("m7i", "c7i", "r7i")},
    **{f: _ladder(*_GRAVITON_2) for f in ("c7g", "m6g", "m6gd", "c6g", "c6gd", "c6gn", "r6g", "r6gd")},
    **{f: _ladder("medium", *_CPU_7) for f in ("r8g", "c8g", "m8g")},
    "r7gd": _ladder("medium", *_GRAVITON_2),
    # GPU instances
    "p2": _ladder("xlarge", "8xlarge", "16xlarge", gpus={"xlarge": 1, "8xlarge": 8, "16xlarge": 16}),
    "p3": _ladder("2xlarge", "8xlarge", "16xlarge", gpus={"2xlarge": 1, "8xlarge": 4, "16xlarge": 8}),
    "g4dn": _ladder("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
                    gpus={"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "12xlarge": 4, "16xlarge": 1}),
    "g5": _ladder(*_G5_SIZES, gpus=_G5_GPUS),
    "g6": _ladder(*_G5_SIZES, gpus=_G5_GPUS),
    "g6e": _ladder(*_G5_SIZES, gpus=_G5_GPUS),
    "p4d": _ladder("24xlarge", gpus={"24xlarge": 8}),
    "p4de": _ladder("24xlarge", gpus={"24xlarge": 8}),
    "p5": _ladder("4xlarge", "48xlarge", gpus={"4xlarge": 1, "48xlarge": 8}),
    "p5e": _ladder("48xlarge", gpus={"48xlarge": 8}),
    "p5en": _ladder("48xlarge", gpus={"48xlarge": 8}),
    "p6-b200": _ladder("48xlarge", gpus={"48xlarge": 8}),
    # accelerators that are not GPUs (no GPUUtilization)
    "inf1": _ladder("xlarge", "2xlarge", "6xlarge", "24xlarge"),
    "inf2": _ladder("xlarge", "8xlarge", "24xlarge", "48xlarge"),
    "trn1": _ladder("2xlarge", "32xlarge"),
    "trn1n": _ladder("32xlarge"),
    "trn2": _ladder("48xlarge"),
    "dl1": _ladder("24xlarge"),
}

INSTANCE_TYPES: dict[str, InstanceSize] = {
    f"ml.{family}.{size}": counts for family, sizes in FAMILIES.items() for size, counts in sizes.items()
}


def instance_size(instance_type: str | None) -> InstanceSize | None:
    """The counts of a known `ml.*` type, or None (unknown, a parameter, or not given)."""
    return INSTANCE_TYPES.get(instance_type) if instance_type else None


def reference_markdown() -> str:
    """The table as the README shows it: one row per family, `size vCPUs/GPUs` per size."""
    rows = ["| family | size: vCPUs (/ GPUs) |", "|---|---|"]
    for family, sizes in FAMILIES.items():
        cells = ", ".join(f"{size}: {n.vcpus}" + (f"/{n.gpus}" if n.gpus else "") for size, n in sizes.items())
        rows.append(f"| `ml.{family}` | {cells} |")
    return (f"Instance types `instance_type` knows ({len(INSTANCE_TYPES)}; source: {SOURCE}; names from the "
            "SageMaker API's ProductionVariantInstanceType enum). Any other type: give `instance_vcpus` / "
            "`instance_gpus`.\n\n" + "\n".join(rows) + "\n")
