"""The registry of what ``keytrail load`` reads, and from a target to its source.

Every source yields the same :data:`~keytrail.loaders.records.LoaderItem` stream as
the file loader, so de-duplication, rejects, the summary and the incident tag work
the same whatever the records were read from. Each source module defines its
:class:`~keytrail.loaders.base.SourceKind` (``KIND``); :data:`KINDS` lists them. Adding a
source is one module and one line there (docs/cloud-sources.md, "Adding a source").

This is the only module that imports the source modules; they import
:mod:`keytrail.loaders.base` and never this one. None of them imports boto3 or
pyathena before a cloud target is opened.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from keytrail.loaders import athena, files, lookup_events, s3, stdin
from keytrail.loaders.base import OPTION_FLAGS, OriginManifest, Source, SourceError, SourceKind, SourceOptions

#: Every kind of target, in the order ``load --help`` names them.
KINDS: tuple[SourceKind, ...] = (
    files.KIND,
    s3.KIND,
    athena.KIND,
    lookup_events.KIND,
    stdin.KIND,
)

_ORG_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
KEY_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,124}$")
#: An IAM or STS principal ARN as CloudTrail writes it in ``userIdentity.arn`` or the session issuer's ``arn``.
PRINCIPAL_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:(iam|sts)::\d{12}:(root|(user|role|assumed-role|federated-user)/[A-Za-z0-9+=,.@_/-]{1,512})$")


def kind_of(target: str) -> SourceKind:
    """The first kind in :data:`KINDS` whose scheme claims a target, else the kind of local paths."""
    claimed = next((kind for kind in KINDS if kind.claims(target)), None)
    return claimed or next(kind for kind in KINDS if kind.scheme is None)


def check_options(kind: SourceKind, options: SourceOptions) -> None:
    """Refuse options that mean nothing for this kind of target, and malformed values.

    Raises:
        SourceError: naming the option and what is wrong with it.
    """
    defaults = SourceOptions()
    for name, flag in OPTION_FLAGS.items():
        if name not in kind.options and getattr(options, name) != getattr(defaults, name):
            raise SourceError(f"{flag} does not apply to {kind.name} targets")
    for account in options.accounts:
        if not _ACCOUNT_RE.match(account):
            raise SourceError(f"--account {account!r}: an account id is 12 digits")
    for region in options.regions:
        if not _REGION_RE.match(region):
            raise SourceError(f"--region {region!r} is not a region name such as us-east-1")
    if options.org_id is not None and not _ORG_RE.match(options.org_id):
        raise SourceError(f"--org-id {options.org_id!r} is not an organisation id such as o-a1b2c3d4e5")
    for key in options.keys:
        if not KEY_RE.match(key):
            raise SourceError(f"--key {key!r} is not an access key id (AKIA… or ASIA…, upper-case letters and digits)")
    for arn in options.principals:
        if not PRINCIPAL_ARN_RE.match(arn):
            raise SourceError(
                f"--principal {arn!r} is not a principal ARN such as arn:aws:iam::111122223333:user/alice, "
                "arn:aws:iam::111122223333:role/deploy or arn:aws:sts::111122223333:assumed-role/deploy/session"
            )
    kind.refuse_options(options)
    if options.workers < 1 or options.margin_days < 0 or options.max_attempts < 1:
        raise SourceError("--workers and --max-attempts must be at least 1, --margin-days at least 0")


def check_targets(targets: Sequence[str], options: SourceOptions) -> None:
    """Refuse, before anything is opened, options that do not apply and targets that cannot be read.

    Raises:
        SourceError: naming the option or the target.
    """
    kinds = list(dict.fromkeys(kind_of(target) for target in targets))
    # Options must mean something for every kind that takes options; a kind that takes
    # none (files, read whole) is held to them only when it is alone.
    for kind in [kind for kind in kinds if kind.options] or kinds:
        check_options(kind, options)
    for target in targets:
        kind_of(target).refuse_target(target)


def open_source(target: str, options: SourceOptions, *, manifest: OriginManifest | None = None) -> Source:
    """Build the source for one ``keytrail load`` target.

    Args:
        target: A path, ``s3://BUCKET[/PREFIX]``, ``athena://DATABASE.TABLE``, ``lookup-events``,
            or the scheme of any other kind in :data:`KINDS`.
        options: Everything else the command was given.
        manifest: Where a source that resumes (S3) finds and records completely loaded objects.

    Raises:
        SourceError: for an unreadable target, options that do not apply, or an AWS error
            met while preparing (Athena table discovery).
    """
    kind = kind_of(target)
    kind.refuse_target(target)
    if kind.options:
        # A kind without options reads its targets whole: the options given for the others do not filter it.
        check_options(kind, options)
    return kind.open(target, options, manifest)
