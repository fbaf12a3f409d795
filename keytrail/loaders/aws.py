"""What the AWS sources share: the session, the retry policy, and AWS errors as one clear :class:`SourceError`.

boto3 and botocore are imported only when called, so loading files never imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from keytrail.loaders.base import DEFAULT_MAX_ATTEMPTS, SourceError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

_ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidToken",
    }
)
_THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "SlowDown",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
    }
)


def aws_session(profile: str | None) -> boto3.Session:
    """A boto3 session on the standard credential chain (``--profile``, ``AWS_PROFILE``, instance roles).

    ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) is
    honoured by botocore itself for every client made from it.

    Raises:
        SourceError: if the named profile does not exist.
    """
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile)
    except ProfileNotFound as exc:
        raise SourceError(f"AWS profile not found: {profile}") from exc


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """Adaptive retries: throttled calls are retried with back-off and a client-side rate limit."""
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "total_max_attempts": max_attempts}, max_pool_connections=32)


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn a botocore error raised inside into a :class:`SourceError` saying what was being done."""
    from botocore.exceptions import BotoCoreError

    try:
        yield
    except BotoCoreError as exc:
        raise source_error(exc, doing) from exc


def source_error(exc: BaseException, doing: str) -> SourceError:
    """Translate an AWS error into one clear sentence saying what failed and what to check.

    Args:
        exc: The botocore exception.
        doing: What was being done, e.g. ``"listing s3://bucket/AWSLogs/"``.
    """
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError, PartialCredentialsError

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return SourceError(f"no AWS credentials while {doing}: set AWS_PROFILE or pass --profile, or run where an instance role is available")
    if isinstance(exc, NoRegionError):
        return SourceError(f"no AWS region while {doing}: set AWS_REGION, or use a profile that names a region")
    if isinstance(exc, EndpointConnectionError):
        return SourceError(f"cannot reach the AWS endpoint while {doing}: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        message = str(error.get("Message") or exc)
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if code in _ACCESS_CODES or code == "403":
            return SourceError(f"access denied while {doing} ({code}: {message}); see docs/cloud-sources.md for the permissions needed")
        if code == "NoSuchBucket":
            return SourceError(f"the bucket does not exist ({doing}): check the name, and the account your credentials belong to")
        if code in _THROTTLE_CODES:
            return SourceError(
                f"throttled by AWS while {doing}, still throttled after {int(attempts) + 1} attempts ({code}): try again later, or with fewer --workers"
            )
        return SourceError(f"AWS error while {doing}: {code}: {message}")
    return SourceError(f"error while {doing}: {exc}")
