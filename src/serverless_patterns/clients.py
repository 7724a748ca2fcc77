"""Client (API key) management for APIs guarded by the API key authorizer.

Each client gets an API Gateway API key whose value AWS generates, attached to the usage plan of
its tier, and an item in the permissions table keyed by the SHA-256 digest of the key: the key
itself is returned once by :func:`create_client` and never stored by this module. The
``serverless-patterns clients`` command (:mod:`serverless_patterns.cli`) wraps these functions.

Usage plans are passed by id, or found by tag: the plan attached to the API whose tag
:data:`TIER_TAG` equals the tier (by default the client's level).

Examples
--------
>>> issued = create_client(table="Permissions", client_id="acme", level="read-write",
...                        api_id="a1b2c3d4e5")  # doctest: +SKIP
>>> print(issued.api_key)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .handlers.api_key_authorizer.keys import API_KEY_PATTERN, api_key_digest
from .handlers.api_key_authorizer.records import ACTIVE, CLIENT_ID_PATTERN, PARTITION_KEY, REVOKED
from .handlers.api_key_authorizer.routes import LEVELS

#: Usage-plan tag whose value names the tier; :func:`find_usage_plan` looks plans up by it.
TIER_TAG = "serverless-patterns:tier"
#: Tags written on every API key the functions create.
CLIENT_TAG = "serverless-patterns:client"
LEVEL_TAG = "serverless-patterns:level"


class ClientsError(Exception):
    """An operator error with a message meant to be shown as it is (unknown client, ...)."""


@dataclass(frozen=True)
class Client:
    """One issued key as the permissions table records it (never the key itself)."""

    client_id: str
    level: str
    status: str
    api_key_id: str
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True)
class IssuedKey:
    """What :func:`create_client` returns: the record, the usage plan and the key, shown once."""

    client: Client
    usage_plan_id: str
    api_key: str = field(repr=False)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _session(session: boto3.Session | None) -> boto3.Session:
    return session or boto3.Session()


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _client_from_item(item: dict[str, Any]) -> Client:
    value = {name: attribute.get("S") for name, attribute in item.items()}
    return Client(
        client_id=value.get("client_id") or "",
        level=value.get("level") or "",
        status=value.get("status") or "",
        api_key_id=value.get("api_key_id") or "",
        created_at=value.get("created_at") or "",
        revoked_at=value.get("revoked_at"),
    )


def _scan(dynamodb: Any, table: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True, **kwargs):
        items.extend(page.get("Items", []))
    return items


def _items_of(dynamodb: Any, table: str, client_id: str) -> list[dict[str, Any]]:
    return _scan(
        dynamodb, table, FilterExpression="client_id = :client", ExpressionAttributeValues={":client": {"S": client_id}}
    )


def _check_client_id(client_id: str) -> None:
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ClientsError(
            f"invalid client name {client_id!r}: use 1-128 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )


def find_usage_plan(*, api_id: str, tier: str, session: boto3.Session | None = None) -> str:
    """The id of the one usage plan attached to ``api_id`` and tagged ``TIER_TAG=tier``.

    Raises
    ------
    ClientsError
        When no plan or several plans match.
    """
    return _find_usage_plan(_session(session).client("apigateway"), api_id, tier)


def _find_usage_plan(apigateway: Any, api_id: str, tier: str) -> str:
    matches = [
        plan["id"]
        for page in apigateway.get_paginator("get_usage_plans").paginate()
        for plan in page.get("items", [])
        if (plan.get("tags") or {}).get(TIER_TAG) == tier
        and any(stage.get("apiId") == api_id for stage in plan.get("apiStages", []))
    ]
    if not matches:
        raise ClientsError(
            f"no usage plan of API {api_id} is tagged {TIER_TAG}={tier}; pass --usage-plan-id explicitly"
        )
    if len(matches) > 1:
        raise ClientsError(
            f"usage plans {', '.join(sorted(matches))} of API {api_id} are all tagged {TIER_TAG}={tier}; "
            "pass --usage-plan-id explicitly"
        )
    return matches[0]


def _check_usage_plan(apigateway: Any, usage_plan_id: str, api_id: str | None) -> None:
    try:
        plan = apigateway.get_usage_plan(usagePlanId=usage_plan_id)
    except ClientError as error:
        if _error_code(error) == "NotFoundException":
            raise ClientsError(f"usage plan {usage_plan_id} does not exist") from None
        raise
    if api_id is not None and not any(stage.get("apiId") == api_id for stage in plan.get("apiStages", [])):
        raise ClientsError(f"usage plan {usage_plan_id} is not attached to API {api_id}")


def create_client(
    *,
    table: str,
    client_id: str,
    level: str,
    usage_plan_id: str | None = None,
    api_id: str | None = None,
    tier: str | None = None,
    session: boto3.Session | None = None,
) -> IssuedKey:
    """Issue an API key for a new client.

    Parameters
    ----------
    table
        The permissions table's name.
    client_id
        The client's name: 1-128 letters, digits, ``.``, ``_``, ``@``, ``-``. A client may hold
        one active key at a time; revoke it before issuing another.
    level
        ``read-only``, ``read-write`` or ``admin``.
    usage_plan_id
        The usage plan to attach the key to. Default: the plan found by :func:`find_usage_plan`
        for ``api_id`` and ``tier``. When both this and ``api_id`` are given, the plan must be
        attached to that API.
    api_id
        The REST API's id; needed when ``usage_plan_id`` is not given.
    tier
        The :data:`TIER_TAG` value of the plan to find. Default: ``level``.
    session
        A boto3 session. Default: a new one (the usual AWS configuration and credentials).

    Raises
    ------
    ClientsError
        Invalid name or level, a client that already holds an active key, a missing usage plan.
    botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError
        Other AWS failures. Whatever fails after the API key was created, the key is deleted
        again, so no unrecorded key stays usable.
    """
    _check_client_id(client_id)
    if level not in LEVELS:
        raise ClientsError(f"invalid level {level!r}: expected one of {', '.join(LEVELS)}")
    aws = _session(session)
    dynamodb, apigateway = aws.client("dynamodb"), aws.client("apigateway")

    active = [item for item in _items_of(dynamodb, table, client_id) if item.get("status", {}).get("S") == ACTIVE]
    if active:
        raise ClientsError(f"client {client_id!r} already has an active key; revoke it before issuing another")
    if usage_plan_id is None:
        if api_id is None:
            raise ClientsError("pass --usage-plan-id, or --api-id to find the usage plan by its tier tag")
        usage_plan_id = _find_usage_plan(apigateway, api_id, tier or level)
    else:
        _check_usage_plan(apigateway, usage_plan_id, api_id)

    created = apigateway.create_api_key(
        name=client_id,
        description=f"serverless-patterns client {client_id} ({level})",
        enabled=True,
        generateDistinctId=True,
        tags={CLIENT_TAG: client_id, LEVEL_TAG: level},
    )
    api_key_id = created["id"]
    try:
        value = created.get("value") or apigateway.get_api_key(apiKey=api_key_id, includeValue=True)["value"]
        if not API_KEY_PATTERN.fullmatch(value):
            raise ClientsError(f"API Gateway generated key {api_key_id} in a form the authorizer rejects")
        apigateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=api_key_id, keyType="API_KEY")
        record = Client(client_id=client_id, level=level, status=ACTIVE, api_key_id=api_key_id, created_at=_now())
        dynamodb.put_item(
            TableName=table,
            Item={
                PARTITION_KEY: {"S": api_key_digest(value)},
                "client_id": {"S": record.client_id},
                "level": {"S": record.level},
                "status": {"S": record.status},
                "api_key_id": {"S": record.api_key_id},
                "created_at": {"S": record.created_at},
            },
            ConditionExpression="attribute_not_exists(#digest)",
            ExpressionAttributeNames={"#digest": PARTITION_KEY},
        )
    except BaseException as failure:
        try:
            apigateway.delete_api_key(apiKey=api_key_id)
        except (ClientError, BotoCoreError) as cleanup:
            raise ClientsError(
                f"creating client {client_id!r} failed ({failure}), and API key {api_key_id} could not be "
                f"deleted again ({cleanup}): delete it by hand"
            ) from None
        raise
    return IssuedKey(client=record, usage_plan_id=usage_plan_id, api_key=value)


def list_clients(*, table: str, session: boto3.Session | None = None) -> list[Client]:
    """Every issued key, active and revoked, sorted by client and creation time."""
    dynamodb = _session(session).client("dynamodb")
    clients = [_client_from_item(item) for item in _scan(dynamodb, table)]
    return sorted(clients, key=lambda client: (client.client_id, client.created_at))


def revoke_client(
    *, table: str, client_id: str, delete_api_key: bool = False, session: boto3.Session | None = None
) -> list[Client]:
    """Revoke a client's active key(s): the table first (the authorizer denies from then on),
    then the API Gateway key (disabled, or deleted with ``delete_api_key``).

    API Gateway may keep serving a cached Allow for the key until the authorizer's cache TTL
    ends; disabling the key in API Gateway cuts usage-plan access too.

    Raises
    ------
    ClientsError
        Unknown client, a client without an active key, or an API Gateway key that could not be
        disabled (the table is revoked by then, which is what the authorizer reads).
    """
    _check_client_id(client_id)
    aws = _session(session)
    dynamodb, apigateway = aws.client("dynamodb"), aws.client("apigateway")
    items = _items_of(dynamodb, table, client_id)
    if not items:
        raise ClientsError(f"unknown client {client_id!r}")
    active = [item for item in items if item.get("status", {}).get("S") == ACTIVE]
    if not active:
        raise ClientsError(f"client {client_id!r} has no active key (already revoked)")

    revoked: list[Client] = []
    failures: list[str] = []
    for item in active:
        revoked_at = _now()
        try:
            dynamodb.update_item(
                TableName=table,
                Key={PARTITION_KEY: item[PARTITION_KEY]},
                UpdateExpression="SET #status = :revoked, revoked_at = :at",
                ConditionExpression="#status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":revoked": {"S": REVOKED},
                    ":active": {"S": ACTIVE},
                    ":at": {"S": revoked_at},
                },
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            # Revoked concurrently: the authorizer already denies it; still disable the API key.
        client = _client_from_item({**item, "status": {"S": REVOKED}, "revoked_at": {"S": revoked_at}})
        revoked.append(client)
        try:
            if delete_api_key:
                apigateway.delete_api_key(apiKey=client.api_key_id)
            else:
                apigateway.update_api_key(
                    apiKey=client.api_key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
                )
        except ClientError as error:
            if _error_code(error) != "NotFoundException":
                failures.append(f"API key {client.api_key_id}: {error}")
        except BotoCoreError as error:
            failures.append(f"API key {client.api_key_id}: {error}")
    if failures:
        raise ClientsError(
            f"client {client_id!r} is revoked in the permissions table (the authorizer denies it), but "
            + "; ".join(failures)
        )
    return revoked
