"""AWS adapter: reads one permissions item from DynamoDB. The only module that calls AWS."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .decision import LookupFailed, Reason
from .records import PARTITION_KEY

# An authorizer answers within API Gateway's timeout: few, quick retries, then deny.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=3)


class PermissionsTable:
    """Looks API key digests up in the permissions table.

    Parameters
    ----------
    table_name
        The table's name; empty or None makes every lookup fail as a configuration error.
    client
        A DynamoDB client. Default: one created on first use.
    """

    def __init__(self, table_name: str | None, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("dynamodb", config=_CLIENT_CONFIG)
        return self._client

    def get(self, key_digest: str) -> dict[str, str] | None:
        """The item's string attributes, or None when no item has this digest.

        Strongly consistent, so a revocation is seen by the next lookup (cached answers in API
        Gateway live on until their TTL ends).

        Raises
        ------
        LookupFailed
            When the table is not configured, does not exist, throttles, or AWS fails otherwise.
        """
        if not self.table_name:
            raise LookupFailed("PERMISSIONS_TABLE is not set", reason=Reason.CONFIG_ERROR)
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key={PARTITION_KEY: {"S": key_digest}}, ConsistentRead=True
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            raise LookupFailed(f"GetItem failed: {code}") from None
        except BotoCoreError as error:
            raise LookupFailed(f"GetItem failed: {type(error).__name__}") from None
        item = response.get("Item")
        if not item:
            return None
        return {name: value["S"] for name, value in item.items() if isinstance(value, dict) and "S" in value}
