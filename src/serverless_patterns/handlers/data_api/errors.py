"""The API's error type and the JSON shape of every error answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """A request the API answers with ``status`` and ``{"error": {"code", "message"}}``."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """``{"error": {"code": code, "message": message, **extra}}``."""
    return {"error": {"code": code, "message": message, **extra}}


def bad_request(message: str, code: str = "validation_error") -> ApiError:
    return ApiError(400, code, message)


def show(value: object, limit: int = 60) -> str:
    """``repr`` of a caller-supplied value, cut to about ``limit`` characters for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
