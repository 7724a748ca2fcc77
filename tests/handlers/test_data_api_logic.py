"""data_api pure logic: event parsing, routing, keys, bodies, listing queries, cursors, responses, config."""

from __future__ import annotations

import base64
import json

import pytest
from data_api_events import http_event
from hypothesis import given
from hypothesis import strategies as st

from serverless_patterns.handlers.data_api import cursors
from serverless_patterns.handlers.data_api.config import MAX_OBJECT_BYTES_LIMIT, Config
from serverless_patterns.handlers.data_api.errors import ApiError
from serverless_patterns.handlers.data_api.request import (
    DEFAULT_CONTENT_TYPE,
    GET_OBJECT,
    HEALTH,
    LIST_OBJECTS,
    MAX_KEY_CHARS,
    PUT_OBJECT,
    Route,
    body_bytes,
    content_type,
    list_query,
    object_key,
    parse_event,
    route,
)
from serverless_patterns.handlers.data_api.responses import is_text, json_response, object_response

KEY = b"k" * 64
OTHER_KEY = b"o" * 64


def _error(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call(*args, **kwargs)
    return raised.value


# ---- parsing ----------------------------------------------------------------------------------


def test_an_http_api_event_is_parsed():
    request = parse_event(
        http_event(
            "put",
            "/api/data/a.txt",
            body="hi",
            query={"x": "1"},
            headers={"Content-Type": "text/plain"},
        )
    )
    assert (request.method, request.path, request.body, request.is_base64) == (
        "PUT",
        "/api/data/a.txt",
        "hi",
        False,
    )
    assert request.headers["content-type"] == "text/plain"  # names are matched case-insensitively
    assert request.query == {"x": "1"}
    assert request.request_id == "Kx1yZgXYoAMEV3w="


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("not an event", "not an API Gateway HTTP API event"),
        ({"rawPath": "/api/health"}, "no valid requestContext.http.method"),
        (
            {**http_event("GET", "/api/health"), "requestContext": {"http": {"method": "G E T"}}},
            "no valid requestContext.http.method",
        ),
        ({**http_event("GET", "/api/health"), "rawPath": "api/health"}, "no valid rawPath"),
        ({**http_event("GET", "/api/health"), "rawPath": "/" + "a" * 9000}, "no valid rawPath"),
        ({**http_event("GET", "/api/health"), "body": 42}, "body must be a string or null"),
        (
            {**http_event("GET", "/api/health"), "isBase64Encoded": "yes"},
            "isBase64Encoded must be a boolean",
        ),
        (
            {**http_event("GET", "/api/health"), "headers": {"a": 1}},
            "headers must map strings to strings",
        ),
        (
            {**http_event("GET", "/api/health"), "queryStringParameters": ["a"]},
            "queryStringParameters must map",
        ),
    ],
)
def test_malformed_events_are_400s(event, message):
    error = _error(parse_event, event)
    assert (error.status, error.code) == (400, "malformed_event")
    assert message in error.message


# ---- routing and keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/health", Route(HEALTH)),
        ("GET", "/api/data", Route(LIST_OBJECTS)),
        ("GET", "/api/data/report-2026.csv", Route(GET_OBJECT, "report-2026.csv")),
        ("PUT", "/api/data/report_2026.csv", Route(PUT_OBJECT, "report_2026.csv")),
        ("PUT", "/api/data/%61bc", Route(PUT_OBJECT, "abc")),  # percent-encoding is decoded
    ],
)
def test_routes(method, path, expected):
    assert route(parse_event(http_event(method, path))) == expected


def test_a_method_the_path_does_not_serve_is_405_with_allow():
    error = _error(route, parse_event(http_event("DELETE", "/api/data/a")))
    assert (error.status, error.code, error.headers) == (
        405,
        "method_not_allowed",
        {"Allow": "GET, PUT"},
    )
    assert _error(route, parse_event(http_event("POST", "/api/health"))).headers == {"Allow": "GET"}


@pytest.mark.parametrize(
    "path",
    ["/", "/api", "/api/data/a/b", "/api/data/", "/api/healthz", "/API/health", "/api/data//a"],
)
def test_unknown_paths_are_404_or_invalid_keys(path):
    error = _error(route, parse_event(http_event("GET", path)))
    assert (error.status, error.code) in ((404, "route_not_found"), (400, "invalid_key"))


@pytest.mark.parametrize(
    "segment",
    [
        "..",
        ".",
        "%2E%2E",
        "..%2Fsecret",
        "a%2Fb",
        "%2Fetc",
        "a%5Cb",
        ".hidden",
        "-x",
        "a b",
        "a%0Ab",
        "a\nb",
        "%FF",
        "k" * (MAX_KEY_CHARS + 1),
        "ümlaut",
        "a*b",
        "",
        "%",
    ],
)
def test_keys_that_could_leave_the_prefix_or_are_not_plain_are_refused(segment):
    error = _error(object_key, segment)
    assert (error.status, error.code) == (400, "invalid_key")


def test_the_longest_key_is_accepted():
    assert object_key("k" * MAX_KEY_CHARS) == "k" * MAX_KEY_CHARS


@given(st.text(max_size=300))
def test_any_accepted_key_is_one_plain_segment(segment):
    try:
        key = object_key(segment)
    except ApiError as error:
        assert error.status == 400
        return
    assert "/" not in key and "\\" not in key and key not in (".", "..")
    assert key[0].isascii() and key[0].isalnum() and len(key) <= MAX_KEY_CHARS


# ---- bodies and content types -----------------------------------------------------------------


def test_text_and_base64_bodies_become_bytes():
    assert (
        body_bytes(parse_event(http_event("PUT", "/api/data/a", body="Zoë")), 100) == "Zoë".encode()
    )
    assert (
        body_bytes(parse_event(http_event("PUT", "/api/data/a", body=b"\x00\xff")), 100)
        == b"\x00\xff"
    )


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (http_event("PUT", "/api/data/a"), 400, "missing_body"),
        (http_event("PUT", "/api/data/a", body=""), 400, "missing_body"),
        (
            {**http_event("PUT", "/api/data/a", body="%%%"), "isBase64Encoded": True},
            400,
            "invalid_body",
        ),
        (http_event("PUT", "/api/data/a", body="x" * 11), 413, "payload_too_large"),
        (
            http_event("PUT", "/api/data/a", body="é" * 6),
            413,
            "payload_too_large",
        ),  # 12 bytes in UTF-8
        (http_event("PUT", "/api/data/a", body=b"x" * 11), 413, "payload_too_large"),
        (http_event("PUT", "/api/data/a", body=b"x" * 100_000), 413, "payload_too_large"),
    ],
)
def test_missing_invalid_and_oversized_bodies(event, status, code):
    error = _error(body_bytes, parse_event(event), 10)
    assert (error.status, error.code) == (status, code)


def test_a_body_of_exactly_the_limit_is_accepted():
    assert (
        body_bytes(parse_event(http_event("PUT", "/api/data/a", body=b"x" * 10)), 10) == b"x" * 10
    )


@given(st.binary(min_size=1, max_size=64))
def test_base64_bodies_round_trip_up_to_the_limit(raw):
    request = parse_event(http_event("PUT", "/api/data/a", body=raw))
    if len(raw) > 32:
        assert _error(body_bytes, request, 32).status == 413
    else:
        assert body_bytes(request, 32) == raw


def test_content_types():
    def of(value):
        return content_type(
            parse_event(
                http_event(
                    "PUT", "/api/data/a", headers={} if value is None else {"content-type": value}
                )
            )
        )

    assert of(None) == DEFAULT_CONTENT_TYPE
    assert of("  ") == DEFAULT_CONTENT_TYPE
    assert of("text/plain; charset=utf-8") == "text/plain; charset=utf-8"
    assert of("application/vnd.api+json") == "application/vnd.api+json"
    for bad in (
        "text",
        "text/",
        "/plain",
        "text/plain\r\nX-Injected: 1",
        "a" * 250 + "/b",
        "текст/plain",
    ):
        error = _error(of, bad)
        assert (error.status, error.code) == (415, "unsupported_media_type")


# ---- listing query ----------------------------------------------------------------------------


def test_list_query_defaults_and_values():
    assert list_query(parse_event(http_event("GET", "/api/data"))) == list_query(
        parse_event(http_event("GET", "/api/data", query={"limit": "100"}))
    )
    query = list_query(
        parse_event(
            http_event("GET", "/api/data", query={"limit": "5", "prefix": "rep", "cursor": "c.d"})
        )
    )
    assert (query.limit, query.prefix, query.cursor) == (5, "rep", "c.d")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "1001"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "²"}, "limit must be a whole number"),
        ({"limit": "-1"}, "limit must be a whole number"),
        ({"prefix": "../"}, "prefix '../' must be the start of a key"),
        ({"cursor": ""}, "cursor must be a value returned as next_cursor"),
        ({"cursor": "c" * 5000}, "cursor must be a value returned as next_cursor"),
        ({"page": "2"}, "unknown query parameter(s): ['page']"),
    ],
)
def test_invalid_list_queries_are_400s(query, message):
    error = _error(list_query, parse_event(http_event("GET", "/api/data", query=query)))
    assert error.status == 400
    assert message in error.message


# ---- cursors ----------------------------------------------------------------------------------


def test_a_cursor_round_trips_and_is_opaque():
    token = cursors.issue(after="report.csv", prefix="rep", expires=2_000, key=KEY)
    assert cursors.verify(token, prefix="rep", now=1_000, keys=[KEY]) == "report.csv"
    assert KEY.decode() not in token


def test_a_cursor_signed_with_the_previous_value_is_accepted_after_rotation():
    token = cursors.issue(after="a", prefix="", expires=2_000, key=OTHER_KEY)
    assert cursors.verify(token, prefix="", now=1_000, keys=[KEY, OTHER_KEY]) == "a"


def test_the_previous_value_is_only_fetched_when_the_current_one_does_not_match():
    fetched = []

    def keys():
        fetched.append("current")
        yield KEY
        fetched.append("previous")
        yield OTHER_KEY

    cursors.verify(
        cursors.issue(after="a", prefix="", expires=2_000, key=KEY),
        prefix="",
        now=1_000,
        keys=keys(),
    )
    assert fetched == ["current"]


@pytest.mark.parametrize(
    ("token", "prefix", "now", "message"),
    [
        (
            cursors.issue(after="a", prefix="", expires=2_000, key=OTHER_KEY),
            "",
            1_000,
            "not one this API issued, or was altered",
        ),
        (
            cursors.issue(after="a", prefix="x", expires=2_000, key=KEY),
            "y",
            1_000,
            "listing with another prefix",
        ),
        (cursors.issue(after="a", prefix="", expires=2_000, key=KEY), "", 2_001, "expired"),
        ("no-dot", "", 1_000, "not one this API issued"),
        (".sig", "", 1_000, "not one this API issued"),
        ("payload.", "", 1_000, "not one this API issued"),
        ("päyload.sig", "", 1_000, "not one this API issued"),
    ],
)
def test_forged_altered_foreign_and_expired_cursors_are_refused(token, prefix, now, message):
    with pytest.raises(cursors.CursorError, match=message):
        cursors.verify(token, prefix=prefix, now=now, keys=[KEY])


def test_a_cursor_after_the_longest_s3_key_fits_the_query_limit():
    longest = "ü" * 512  # 1024 bytes, the most S3 allows
    token = cursors.issue(after=longest, prefix="", expires=2_000, key=KEY)
    request = parse_event(http_event("GET", "/api/data", query={"cursor": token}))
    assert cursors.verify(list_query(request).cursor, prefix="", now=1_000, keys=[KEY]) == longest


def test_a_cursor_with_a_changed_payload_is_refused():
    token = cursors.issue(after="a", prefix="", expires=2_000, key=KEY)
    signature = token.split(".")[1]
    forged = (
        base64.urlsafe_b64encode(json.dumps({"a": "z", "p": "", "e": 2_000}).encode())
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(cursors.CursorError, match="altered"):
        cursors.verify(f"{forged}.{signature}", prefix="", now=1_000, keys=[KEY])


@given(st.text(max_size=200))
def test_no_string_is_accepted_as_a_cursor_without_the_key(token):
    with pytest.raises(cursors.CursorError):
        cursors.verify(token, prefix="", now=1_000, keys=[KEY])


# ---- responses --------------------------------------------------------------------------------


def test_json_responses():
    response = json_response(404, {"error": {"code": "x"}}, {"Allow": "GET"})
    assert response == {
        "statusCode": 404,
        "headers": {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "Allow": "GET",
        },
        "body": '{"error":{"code":"x"}}',
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("media", "text"),
    [
        ("text/plain", True),
        ("text/csv; charset=utf-8", True),
        ("application/json", True),
        ("application/ld+json", True),
        ("image/svg+xml", True),
        ("application/octet-stream", False),
        ("image/png", False),
        ("application/pdf", False),
    ],
)
def test_text_media_types(media, text):
    assert is_text(media) is text


def test_objects_are_returned_as_text_or_base64():
    text = object_response("Zoë".encode(), content_type="text/plain", etag='"e"', version_id="v1")
    assert (text["body"], text["isBase64Encoded"]) == ("Zoë", False)
    assert text["headers"] == {
        "Content-Type": "text/plain",
        "Cache-Control": "no-store",
        "ETag": '"e"',
        "X-Object-Version": "v1",
    }
    binary = object_response(b"\x00\xff", content_type="image/png", etag=None, version_id=None)
    assert (binary["body"], binary["isBase64Encoded"]) == ("AP8=", True)
    mislabelled = object_response(b"\xff", content_type="text/plain", etag=None, version_id=None)
    assert (mislabelled["body"], mislabelled["isBase64Encoded"]) == ("/w==", True)


# ---- configuration ----------------------------------------------------------------------------


def test_config_from_env():
    config = Config.from_env(
        {
            "BUCKET_NAME": "b",
            "CURSOR_KEY_ARN": "arn:s",
            "MAX_OBJECT_BYTES": "2048",
            "KEY_PREFIX": "x/y/",
        }
    )
    assert (config.bucket, config.secret_arn, config.max_object_bytes, config.key_prefix) == (
        "b",
        "arn:s",
        2048,
        "x/y/",
    )
    assert Config.from_env({"BUCKET_NAME": "b", "CURSOR_KEY_ARN": "arn:s"}).key_prefix == "data/"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BUCKET_NAME": None}, "BUCKET_NAME is not set"),
        ({"CURSOR_KEY_ARN": ""}, "CURSOR_KEY_ARN is not set"),
        (
            {"MAX_OBJECT_BYTES": str(MAX_OBJECT_BYTES_LIMIT + 1)},
            f"MAX_OBJECT_BYTES={MAX_OBJECT_BYTES_LIMIT + 1} is outside",
        ),
        ({"MAX_OBJECT_BYTES": "lots"}, "MAX_OBJECT_BYTES='lots' is not an integer"),
        ({"KEY_PREFIX": "data"}, "KEY_PREFIX='data' must be segments ending in '/'"),
        ({"KEY_PREFIX": "../"}, "KEY_PREFIX='../' must be segments"),
        ({"KEY_PREFIX": "/data/"}, "KEY_PREFIX='/data/' must be segments"),
    ],
)
def test_config_errors_name_the_variable(env, message):
    merged = {
        name: value
        for name, value in {"BUCKET_NAME": "b", "CURSOR_KEY_ARN": "arn:s", **env}.items()
        if value is not None
    }
    with pytest.raises(ValueError) as raised:
        Config.from_env(merged)
    assert message in str(raised.value)
