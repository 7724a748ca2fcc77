"""The rotation function's only AWS calls: Secrets Manager, on the one secret being rotated."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .logic import CURRENT, PENDING


class SecretStore:
    """One secret, through a Secrets Manager client made by the caller."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self._secret_id = secret_id

    def describe(self) -> dict[str, Any]:
        return self._client.describe_secret(SecretId=self._secret_id)

    def current_value(self) -> str:
        return self._client.get_secret_value(SecretId=self._secret_id, VersionStage=CURRENT)[
            "SecretString"
        ]

    def pending_value(self, token: str) -> str | None:
        """The value of version ``token`` labelled ``AWSPENDING``, or ``None`` when it has none yet."""
        try:
            answer = self._client.get_secret_value(
                SecretId=self._secret_id, VersionId=token, VersionStage=PENDING
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        return answer.get("SecretString")

    def put_pending(self, token: str, value: str) -> None:
        """Store ``value`` as version ``token``, labelled ``AWSPENDING`` (idempotent for one token)."""
        self._client.put_secret_value(
            SecretId=self._secret_id,
            ClientRequestToken=token,
            SecretString=value,
            VersionStages=[PENDING],
        )

    def make_current(self, token: str, previous: str) -> None:
        """Move ``AWSCURRENT`` from version ``previous`` to ``token``; Secrets Manager labels ``previous`` AWSPREVIOUS."""
        self._client.update_secret_version_stage(
            SecretId=self._secret_id,
            VersionStage=CURRENT,
            MoveToVersionId=token,
            RemoveFromVersionId=previous,
        )
