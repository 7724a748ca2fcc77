"""Checks and helpers shared by the API Gateway constructs (REST and HTTP APIs)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from aws_cdk import Annotations
from constructs import Construct

from ._validation import PropErrors, is_token
from ._kernel import path_of

#: An https origin as browsers send it: lowercase host, optional port, no path, no wildcard.
HTTPS_ORIGIN = re.compile(
    r"^https://[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$"
)
#: A loopback origin of a developer's machine: ``http://localhost[:port]`` or ``http://127.0.0.1[:port]``.
LOOPBACK_ORIGIN = re.compile(r"^http://(localhost|127\.0\.0\.1)(:\d{1,5})?$")
#: Warning emitted for a loopback CORS origin (dev stages only).
DEV_CORS_ORIGIN_WARNING = "serverless-patterns:devCorsOrigin"

# Resource path segments API Gateway accepts: literals, {param}, and a final {proxy+}.
_LITERAL_SEGMENT = re.compile(r"^[A-Za-z0-9._:$-]+$")
_PARAM_SEGMENT = re.compile(r"^\{([A-Za-z0-9._-]+)\}$")
_GREEDY_SEGMENT = re.compile(r"^\{([A-Za-z0-9._-]+)\+\}$")


def is_number(value: object) -> bool:
    """True for ints and floats, not for bools."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_cors_origins(errors: PropErrors, origins: Sequence[str]) -> None:
    """Each origin an https origin (``*`` refused) or a loopback ``http://`` origin, each listed once; tokens pass."""
    for origin in origins:
        errors.check(
            is_token(origin)
            or (isinstance(origin, str) and bool(HTTPS_ORIGIN.match(origin) or LOOPBACK_ORIGIN.match(origin))),
            "cors_origins",
            origin,
            "must be an https origin such as 'https://app.example.com' (lowercase, no path, no '*'); plain http is "
            "accepted only for http://localhost[:port] and http://127.0.0.1[:port] (development)",
        )
    duplicates = sorted({o for o in origins if not is_token(o) and list(origins).count(o) > 1})
    errors.check(not duplicates, "cors_origins", duplicates, "each origin may be listed once")


def warn_loopback_origins(scope: Construct, origins: Sequence[str], *, what: str) -> None:
    """Warn on ``scope`` when ``origins`` allow a loopback ``http://`` origin: for development stages only."""
    loopback = [o for o in origins if isinstance(o, str) and not is_token(o) and LOOPBACK_ORIGIN.match(o)]
    if loopback:
        Annotations.of(scope).add_warning_v2(
            DEV_CORS_ORIGIN_WARNING,
            f"{what} of {path_of(scope)} allows the loopback origins {', '.join(loopback)} over plain http: any "
            "page served on that port of a visitor's machine may call it. For development stages only; a "
            "production stage lists its https origins alone.",
        )


def check_throttle(errors: PropErrors, rate_prop: str, rate: float, burst_prop: str, burst: float) -> None:
    """A rate above 0, a whole burst of at least 1 and at least the rate; tokens pass."""
    errors.check(
        is_token(rate) or (is_number(rate) and rate > 0),
        rate_prop,
        rate,
        "must be a number of requests per second greater than 0",
    )
    errors.check(
        is_token(burst) or (is_number(burst) and burst >= 1 and burst == int(burst)),
        burst_prop,
        burst,
        "must be a whole number of requests, at least 1",
    )
    if is_number(rate) and is_number(burst) and not is_token(rate) and not is_token(burst):
        errors.check(burst >= rate, burst_prop, burst, f"must be at least {rate_prop} ({rate:g})")


def path_problem(path: object) -> str | None:
    """Why API Gateway would refuse the resource path ``path``, or None."""
    if not isinstance(path, str):
        return "must be a string"
    if not path.startswith("/"):
        return "must start with '/'"
    if path == "/":
        return None
    if path.endswith("/"):
        return "must not end with '/'"
    segments = path.split("/")[1:]
    names: list[str] = []
    for position, segment in enumerate(segments, start=1):
        variable = _PARAM_SEGMENT.match(segment) or _GREEDY_SEGMENT.match(segment)
        if _GREEDY_SEGMENT.match(segment) and position != len(segments):
            return f"the greedy segment {segment!r} must be the last one"
        if variable is None and not _LITERAL_SEGMENT.match(segment):
            return (
                f"segment {segment!r} must be a literal (letters, digits, '.', '_', '-', ':', '$'), "
                "a {param} or a final {proxy+}"
            )
        if variable is not None:
            if variable.group(1) in names:
                return f"the parameter {{{variable.group(1)}}} appears twice"
            names.append(variable.group(1))
    return None


def path_parameters(path: str) -> list[str]:
    """The names of the ``{param}`` and ``{proxy+}`` segments of a valid ``path``."""
    return [
        match.group(1)
        for segment in path.split("/")
        if (match := _PARAM_SEGMENT.match(segment) or _GREEDY_SEGMENT.match(segment))
    ]


def pascal(text: str) -> str:
    """``"read-only"`` -> ``"ReadOnly"``, ``"/documents/{id}"`` -> ``"DocumentsId"``: for construct ids."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def json_access_log_format(fields: Mapping[str, str]) -> str:
    """An access log format that writes one JSON object per request, every value a string."""
    return json.dumps(dict(fields), separators=(",", ":"))
