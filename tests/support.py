"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import socket
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
