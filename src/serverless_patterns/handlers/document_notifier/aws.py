"""The notifier's AWS calls of its own: SNS Publish and EventBridge PutEvents (Idempotency adds
its table calls)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .transitions import bus_entry, message


class StatusTopic:
    def __init__(self, *, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, event: Mapping[str, Any]) -> str:
        """Publish the status ``event``; returns the SNS message id."""
        body, attributes = message(event)
        response = self._sns.publish(
            TopicArn=self._topic_arn, Message=body, MessageAttributes=attributes
        )
        return response["MessageId"]


class EventNotAccepted(RuntimeError):
    """EventBridge answered PutEvents but did not accept the entry (a partial failure)."""


class StatusEventBus:
    def __init__(self, *, events: Any, bus: str) -> None:
        self._events = events
        self._bus = bus

    def put(self, event: Mapping[str, Any], resources: Sequence[str] = ()) -> str:
        """Put the status ``event`` (about ``resources``) on the bus; returns its event id.

        PutEvents answers 200 also when it rejects an entry (``FailedEntryCount``): that raises
        :class:`EventNotAccepted`, so the record is retried.
        """
        response = self._events.put_events(Entries=[bus_entry(event, self._bus, resources)])
        entries = response.get("Entries") or [{}]
        if response.get("FailedEntryCount") or not entries[0].get("EventId"):
            error = entries[0]
            raise EventNotAccepted(
                f"PutEvents did not accept the event: {error.get('ErrorCode')}: {error.get('ErrorMessage')}"
            )
        return entries[0]["EventId"]
