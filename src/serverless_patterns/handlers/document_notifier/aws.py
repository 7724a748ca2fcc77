"""The notifier's one AWS call of its own: SNS Publish (Idempotency adds its table calls)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .transitions import message


class StatusTopic:
    def __init__(self, *, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, transition: Mapping[str, Any]) -> str:
        """Publish ``transition``; returns the SNS message id."""
        body, attributes = message(transition)
        response = self._sns.publish(
            TopicArn=self._topic_arn, Message=body, MessageAttributes=attributes
        )
        return response["MessageId"]
