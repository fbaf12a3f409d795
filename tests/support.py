"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (the caller's server binds it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The Athena table the CloudTrail documentation creates (partition projection on `timestamp`).
DOCS_TABLE_COLUMNS: list[tuple[str, str]] = [
    ("eventversion", "string"),
    (
        "useridentity",
        "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,"
        "onbehalfof:struct<userid:string,identitystorearn:string>,sessioncontext:struct<attributes:struct<mfaauthenticated:string,"
        "creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>,"
        "ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>,sourceidentity:string>>",
    ),
    *[(n, "string") for n in ("eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress", "useragent", "errorcode", "errormessage")],
    *[(n, "string") for n in ("requestparameters", "responseelements", "additionaleventdata", "requestid", "eventid")],
    ("resources", "array<struct<arn:string,accountid:string,type:string>>"),
    *[(n, "string") for n in ("eventtype", "apiversion", "readonly", "recipientaccountid", "serviceeventdetails", "sharedeventid")],
    *[(n, "string") for n in ("vpcendpointid", "vpcendpointaccountid", "eventcategory")],
    ("addendum", "struct<reason:string,updatedfields:string,originalrequestid:string,originaleventid:string>"),
    ("sessioncredentialfromconsole", "string"),
    ("edgedevicedetails", "string"),
    ("tlsdetails", "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>"),
]


def docs_table_input() -> dict[str, Any]:
    """Glue's TableInput for that table, named ``cloudtrail_logs`` as the documentation names it."""
    return {
        "Name": "cloudtrail_logs",
        "PartitionKeys": [{"Name": "timestamp", "Type": "string"}],
        "Parameters": {"projection.enabled": "true", "projection.timestamp.type": "date", "projection.timestamp.format": "yyyy/MM/dd"},
        "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in DOCS_TABLE_COLUMNS]},
    }


#: Debian's chromium, headless, with nothing reaching the network (the flags the machine notes name: without the
#: background-networking ones it tries to reach Google's hosts at every start).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    """The chromium binary; in CI its absence fails the test (.ci/run installs it), elsewhere it skips."""
    import os
    import shutil

    import pytest

    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium package)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def open_page(page: Path, workdir: Path, *, screenshot: Path | None = None, width: int = 1280, height: int = 1000) -> tuple[str, list[str]]:
    """The page's DOM once its scripts ran, and every console message it printed, from headless Chromium."""
    import re
    import subprocess

    common = [chromium(), *CHROMIUM_FLAGS, f"--window-size={width},{height}", "--virtual-time-budget=5000"]
    dumped = subprocess.run(
        [*common, f"--user-data-dir={workdir / 'profile-dom'}", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    console = re.findall(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)", dumped.stderr)
    if screenshot is not None:
        shot = subprocess.run(
            [*common, f"--user-data-dir={workdir / 'profile-shot'}", f"--screenshot={screenshot}", page.as_uri()], capture_output=True, text=True, timeout=120
        )
        assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    return dumped.stdout, console
