"""Lambda entry point of the echo handler (``example_echo.index.handler``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from .logic import echo

logger: Logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Echo the JSON object in the request body; malformed input gets a 4xx JSON error."""
    result = echo(event)
    if result["statusCode"] >= 400:
        logger.info("rejected request", extra={"status": result["statusCode"], "reason": result["body"]})
    return result
