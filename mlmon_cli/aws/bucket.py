"""`mlmon deploy --resolve-s3`: one managed artifacts bucket per account and region, created once.

Like SAM's `--resolve-s3`, but without a helper stack: the name is derived from the account and
region (`mlmon-artifacts-<account>-<region>`), so every deploy in that account and region finds
the same bucket. It is created with default encryption (SSE-S3), every public-access block on
and object ownership `BucketOwnerEnforced` (no ACLs); a bucket of that name owned by another
account is refused (`ExpectedBucketOwner` on every call), never written to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ..errors import AwsError
from .session import Aws, aws_errors, error_code

PREFIX = "mlmon-artifacts"
TAG = {"Key": "mlmon:managed", "Value": "artifacts bucket for mlmon deploy --resolve-s3"}


def managed_bucket_name(account: str, region: str) -> str:
    """`mlmon-artifacts-<account>-<region>`: at most 16 + 12 + 1 + 25 characters (S3 allows 63)."""
    return f"{PREFIX}-{account}-{region}"


def account_id(aws: Aws) -> str:
    with aws_errors("identify the AWS account (sts get-caller-identity)"):
        return str(aws.client("sts").get_caller_identity()["Account"])


def resolve_bucket(aws: Aws, log: Callable[[str], None]) -> tuple[str, str]:
    """(bucket, owner account): the managed bucket, created and hardened when it does not exist yet."""
    account = account_id(aws)
    name = managed_bucket_name(account, aws.region)
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        log(f"mlmon: using the managed bucket s3://{name}")
        return name, account
    except ClientError as exc:
        code = error_code(exc)
        if code in ("403", "AccessDenied", "Forbidden"):
            raise AwsError(f"mlmon: --resolve-s3: bucket {name} exists but is not owned by account {account} "
                           "(or you may not read it); pass --s3-bucket with a bucket of yours") from None
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise AwsError(f"mlmon: --resolve-s3: cannot check bucket {name}: {code}: {exc}") from None
    _create(s3, name, aws.region)
    log(f"mlmon: created the managed bucket s3://{name} (encrypted, public access blocked); later deploys reuse it")
    return name, account


def _create(s3: Any, name: str, region: str) -> None:
    extra: dict[str, Any] = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    with aws_errors(f"create the managed bucket {name}"):
        try:
            s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced", **extra)
        except ClientError as exc:
            if error_code(exc) != "BucketAlreadyOwnedByYou":  # a concurrent deploy created it: fine
                raise
    with aws_errors(f"block public access on {name}"):
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    with aws_errors(f"turn on default encryption of {name}"):
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]})
    with aws_errors(f"tag {name}"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [TAG]})
