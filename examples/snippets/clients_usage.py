"""Key rotation with the clients library, included in the docs and run on moto by the tests."""

from __future__ import annotations

import boto3

from serverless_patterns.clients import ClientsError, create_client, list_clients, revoke_client


def rotate_key(
    *, table: str, client_id: str, api_id: str, session: boto3.Session | None = None
) -> str:
    """Issue a new key at the client's current level, then revoke the old one; return the new key.

    Only one key per client can be active, so the old key is revoked first: the client is without
    a working key from the revocation until it receives the new one.
    """
    active = [
        c
        for c in list_clients(table=table, session=session)
        if c.client_id == client_id and c.status == "active"
    ]
    if not active:
        raise ClientsError(f"client {client_id!r} has no active key to rotate")
    revoke_client(table=table, client_id=client_id, session=session)
    issued = create_client(
        table=table, client_id=client_id, level=active[0].level, api_id=api_id, session=session
    )
    return issued.api_key  # hand it over now: it is not stored anywhere by serverless-patterns
