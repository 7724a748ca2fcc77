"""Properties of construct props, for any value: a wrong one fails at construction, naming the prop.

For SecureBucket, AuditedTable, AlertingFunction, SecureQueue and DocumentPipeline:

- any value of a type a prop's annotation does not allow (``None`` where the prop is not
  optional, a ``bool`` for a number, a ``str`` for a list, ...) raises ``TypeError`` at
  construction, and any value of the right type outside the prop's rules raises ``ValueError``;
  either message starts with the construct's name and names the prop, so the mistake never
  reaches jsii or a deployment;
- a sample of valid values synthesizes with zero unacknowledged findings in the five cdk-nag
  packs (few examples: each one is a synth).

The type oracle here is independent of the constructs' own checks: values come from a few kinds
whose fit to an annotation is obvious.
"""

from __future__ import annotations

import inspect
import itertools
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from harness import synthesize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serverless_patterns.alerting_function import AlertingFunction
from serverless_patterns.audited_table import AuditedTable
from serverless_patterns.document_pipeline import DocumentPipeline
from serverless_patterns.handlers import handler_code, handler_entry
from serverless_patterns.handlers.documents_api.config import DEFAULT_ALLOWED_CONTENT_TYPES
from serverless_patterns.secure_bucket import SecureBucket
from serverless_patterns.secure_queue import SecureQueue

CONSTRUCTION = settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
# Each example is a synth (about 0.3 s warm): few, and the same ones on every run.
SYNTHESIS = settings(max_examples=6, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

_STACK = Stack(App(), "Properties")  # constructions that fail add nothing to it
_IDS = itertools.count()


def _required(construct: type) -> dict[str, Any]:
    """The props a construct cannot do without, at valid values."""
    if construct is AuditedTable:
        return {"partition_key": dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)}
    if construct is AlertingFunction:
        return {"code": handler_code("example_echo"), "handler": handler_entry("example_echo")}
    return {}


CONSTRUCTS = (SecureBucket, AuditedTable, AlertingFunction, SecureQueue, DocumentPipeline)


# ---- the type oracle --------------------------------------------------------------------------

#: Values of a few kinds, each obviously of one type (containers are never empty).
KINDS: dict[str, st.SearchStrategy[Any]] = {
    "none": st.none(),
    "bool": st.booleans(),
    "int": st.integers(min_value=-(10**12), max_value=10**12),
    "float": st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not float(f).is_integer()),
    "str": st.text(max_size=30),
    "bytes": st.binary(max_size=8),
    "list": st.lists(st.integers(), min_size=1, max_size=3),
    "dict": st.dictionaries(st.text(max_size=5), st.integers(), min_size=1, max_size=2),
    "duration": st.integers(min_value=0, max_value=10**6).map(Duration.seconds),
    "removal_policy": st.sampled_from(list(RemovalPolicy)),
    "object": st.builds(object),
}


def _kinds_accepted(annotation: Any) -> set[str]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, __import__("types").UnionType):
        return set().union(*(_kinds_accepted(a) for a in typing.get_args(annotation)))
    if annotation is type(None):
        return {"none"}
    if annotation is bool:
        return {"bool"}
    if annotation is int:
        return {"int"}
    if annotation is float:
        return {"int", "float"}
    if annotation is str:
        return {"str"}
    if annotation is Duration:
        return {"duration"}
    if annotation is RemovalPolicy:
        return {"removal_policy"}
    if origin in (Sequence, list, tuple):
        return {"list"} if _kinds_accepted(typing.get_args(annotation)[0]) & {"int"} else set()
    return set()  # other classes, mappings with str keys: none of these kinds fits them


def _props(construct: type) -> dict[str, Any]:
    hints = typing.get_type_hints(construct.__init__)
    return {name: hint for name, hint in hints.items() if name not in ("scope", "id", "return")}


def _wrong_values(construct: type) -> st.SearchStrategy[tuple[str, Any]]:
    """(prop, value) pairs whose value's kind the prop's annotation refuses."""
    pairs = [
        (prop, kind) for prop, annotation in _props(construct).items()
        for kind in KINDS if kind not in _kinds_accepted(annotation)
    ]
    return st.sampled_from(pairs).flatmap(lambda pair: KINDS[pair[1]].map(lambda value: (pair[0], value)))


def _refused(construct: type, props: Mapping[str, Any], exception: Any, prop: str) -> str:
    """Construct with ``props``; it must raise ``exception`` naming the construct and ``prop``."""
    with pytest.raises(exception) as raised:
        construct(_STACK, f"C{next(_IDS)}", **{**_required(construct), **props})
    message = str(raised.value)
    assert message.startswith(f"{construct.__name__}: "), message
    assert prop in message, message
    return message


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_a_value_of_a_type_the_prop_does_not_take_is_refused_at_construction(construct):
    @CONSTRUCTION
    @given(_wrong_values(construct))
    def check(pair):
        prop, value = pair
        # TypeError, or ValueError where the type is close (2.5 for a whole number, infinity)
        _refused(construct, {prop: value}, (TypeError, ValueError), prop)

    check()


#: One value of each kind, for the exhaustive sweep below.
REPRESENTATIVES = {
    "none": None, "bool": True, "int": 3, "float": 2.5, "str": "text", "bytes": b"x", "list": [1],
    "dict": {"k": 1}, "duration": Duration.seconds(30), "removal_policy": RemovalPolicy.DESTROY, "object": object(),
}


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_one_value_of_every_kind_the_prop_does_not_take_is_refused(construct):
    """The same property, over every (prop, kind) pair: random sampling may miss a pair."""
    for prop, annotation in _props(construct).items():
        for kind in set(KINDS) - _kinds_accepted(annotation):
            _refused(construct, {prop: REPRESENTATIVES[kind]}, (TypeError, ValueError), prop)


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_every_prop_is_typed_and_refuses_none_unless_it_is_optional(construct):
    """The oracle above relies on the annotations: every prop has one, and None is refused
    exactly where the annotation leaves it out."""
    parameters = set(inspect.signature(construct.__init__).parameters) - {"self", "scope", "id"}
    assert set(_props(construct)) == parameters
    for prop, annotation in _props(construct).items():
        if "none" not in _kinds_accepted(annotation):
            _refused(construct, {prop: None}, (TypeError, ValueError), prop)


# ---- values of the right type, outside the rules --------------------------------------------


def _days_not_whole() -> st.SearchStrategy[Duration]:
    return st.integers(min_value=1, max_value=10_000).filter(lambda h: h % 24).map(Duration.hours)


def _seconds(low: int, high: int) -> st.SearchStrategy[Duration]:
    return st.integers(min_value=low, max_value=high).map(Duration.seconds)


def _outside(low: int, high: int, *, limit: int = 10**9) -> st.SearchStrategy[int]:
    return st.integers(min_value=-limit, max_value=low - 1) | st.integers(min_value=high + 1, max_value=limit)


_BLANK = st.text(alphabet=" \t\n", max_size=5)
_BAD_NAME = st.from_regex(r"[A-Za-z0-9]{0,5}[ /*!?#@]{1,3}[A-Za-z0-9]{0,5}", fullmatch=True)

OUT_OF_RULES: dict[type, dict[str, st.SearchStrategy[Any]]] = {
    SecureBucket: {
        "encryption": st.sampled_from([s3.BucketEncryption.UNENCRYPTED, s3.BucketEncryption.KMS_MANAGED]),
        "bucket_name": st.from_regex(r"[A-Z_][a-z]{2,10}", fullmatch=True) | st.text(alphabet="abc", min_size=64, max_size=70),
        "minimum_tls_version": st.floats(min_value=0, max_value=1.19),
        "enforce_ssl": st.just(False),
        "block_public_access": st.sampled_from([s3.BlockPublicAccess.BLOCK_ACLS, s3.BlockPublicAccess.BLOCK_ACLS_ONLY]),
        "object_ownership": st.sampled_from([s3.ObjectOwnership.OBJECT_WRITER, s3.ObjectOwnership.BUCKET_OWNER_PREFERRED]),
        "log_retention": _days_not_whole(),
        "noncurrent_version_expiration": _days_not_whole(),
        "abort_incomplete_multipart_upload_after": _days_not_whole() | st.just(Duration.days(0)),
        "server_access_logs_prefix": st.text(max_size=10).map(lambda text: "/" + text),
        "access_logs_opt_out_reason": _BLANK,
        "object_lock_default_retention": st.just(s3.ObjectLockRetention.governance(Duration.days(1))),
    },
    AuditedTable: {
        "point_in_time_recovery_period_days": _outside(1, 35),
        "removal_policy": st.just(RemovalPolicy.SNAPSHOT),
        "deletion_protection": st.just(False),
        "table_name": _BAD_NAME | st.text(alphabet="ab", min_size=0, max_size=2),
        "time_to_live_attribute": st.just("") | st.text(alphabet="x", min_size=256, max_size=260),
        "read_capacity": st.integers(min_value=-100, max_value=10_000),  # only with PROVISIONED
        "target_utilization_percent": st.floats(min_value=-100, max_value=19.9) | st.floats(min_value=90.1, max_value=1000),
        "throttled_requests_alarm_threshold": st.floats(max_value=0, allow_nan=False),
        "system_errors_alarm_threshold": st.floats(max_value=0, allow_nan=False),
        "alarm_period": _seconds(1, 10_000).filter(lambda d: d.to_seconds() % 60),
        "alarm_evaluation_periods": st.integers(max_value=0),
        "contributor_insights_mode": st.sampled_from(list(dynamodb.ContributorInsightsMode)),
    },
    AlertingFunction: {
        "memory_size": _outside(128, 10240) | st.floats(min_value=128.1, max_value=10239.9).filter(lambda f: not f.is_integer()),
        "timeout": _seconds(901, 10**6),
        "retry_attempts": _outside(0, 2),
        "max_event_age": _seconds(0, 59) | _seconds(6 * 3600 + 1, 10**6),
        "reserved_concurrent_executions": st.floats(max_value=0.99, allow_nan=False),
        "log_retention": st.just(logs.RetentionDays.INFINITE),
        "function_name": _BAD_NAME | st.text(alphabet="f", min_size=65, max_size=70),
        "description": st.text(min_size=257, max_size=300),
        "handler": st.just("") | st.from_regex(r"[a-z]{1,5} [a-z]{1,5}", fullmatch=True),
        "runtime": st.sampled_from([lambda_.Runtime.PYTHON_3_8, lambda_.Runtime.NODEJS_14_X, lambda_.Runtime.NODEJS_LATEST]),
        "environment": st.sampled_from([{"AWS_REGION": "x"}, {"1BAD": "x"}, {"has-dash": "x"}, {"A": "x"}]),
        "alert_emails": st.lists(st.from_regex(r"[a-z]{1,8}(@|\.)?", fullmatch=True).filter(lambda a: "@" not in a), min_size=1, max_size=2),
        "vpc_opt_out_reason": _BLANK,
    },
    SecureQueue: {
        "max_receive_count": _outside(1, 1000),
        "visibility_timeout": _seconds(12 * 3600 + 1, 10**7),
        "retention_period": _seconds(0, 59) | _seconds(14 * 86400 + 1, 10**8),
        "dead_letter_retention_period": _seconds(0, 59),
        "receive_message_wait_time": _seconds(21, 10**5),
        "delivery_delay": _seconds(901, 10**5),
        "content_based_deduplication": st.just(True),
        "queue_name": _BAD_NAME | st.from_regex(r"[a-z]{1,10}\.fifo", fullmatch=True),
        "dead_letter_messages_alarm_threshold": st.floats(max_value=0.99, allow_nan=False),
        "oldest_message_age_alarm_threshold": _seconds(0, 59),
        "alarm_period": _seconds(1, 10**5).filter(lambda d: d.to_seconds() % 60),
        "alarm_evaluation_periods": st.integers(max_value=0),
    },
    DocumentPipeline: {
        "max_document_bytes": _outside(1, 5 * 1024**4, limit=10**15),
        "allowed_content_types": st.sampled_from([[], ["pdf"], ["text/plain,text/csv"], ["application/pdf", "png"]]),
        "upload_url_expiry": _seconds(0, 59) | _seconds(7 * 86400 + 1, 10**8) | st.integers(60_001, 10**7).filter(lambda ms: ms % 1000).map(Duration.millis),
        "download_url_expiry": _seconds(0, 59) | _seconds(7 * 86400 + 1, 10**8),
        "processor_memory_size": _outside(128, 10240),
        "private_api": st.just(True),
        "alert_emails": st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), min_size=1, max_size=2),
    },
}


_BAD_TAGS = st.sampled_from([{"Team": ""}, {"": "x"}, {"aws:owner": "x"}, {"Team": "x" * 257}])


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_a_value_of_the_right_type_outside_the_rules_is_refused_at_construction(construct):
    rules = {**OUT_OF_RULES[construct], "tags": _BAD_TAGS}

    @CONSTRUCTION
    @given(st.sampled_from(sorted(rules)).flatmap(lambda prop: rules[prop].map(lambda value: (prop, value))))
    def check(pair):
        prop, value = pair
        _refused(construct, {prop: value}, ValueError, prop)

    check()


# ---- valid values synthesize cleanly --------------------------------------------------------


_TAGS = st.dictionaries(
    st.from_regex(r"[A-Z][A-Za-z0-9]{0,15}", fullmatch=True), st.from_regex(r"[A-Za-z0-9._-][A-Za-z0-9 ._-]{0,19}", fullmatch=True), max_size=3
)
_DAYS = st.integers(min_value=1, max_value=3650).map(Duration.days)
_REASON = st.sampled_from(["Scratch data for load tests; CloudTrail data events cover access.", "Test fixture with no user data."])


def _optional(**strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=strategies)


VALID: dict[type, st.SearchStrategy[dict[str, Any]]] = {
    # Only KMS: S3_MANAGED and DSSE, asked for explicitly, leave the HIPAA/NIST/PCI
    # S3DefaultEncryptionKMS findings for the caller to acknowledge with a reason.
    SecureBucket: _optional(
        encryption=st.just(s3.BucketEncryption.KMS),
        object_lock_enabled=st.booleans(),
        log_retention=_DAYS,
        noncurrent_version_expiration=_DAYS,
        abort_incomplete_multipart_upload_after=st.integers(1, 30).map(Duration.days),
        server_access_logs_prefix=st.from_regex(r"[a-z]{1,10}/", fullmatch=True),
        event_bridge_enabled=st.booleans(),
        minimum_tls_version=st.sampled_from([1.2, 1.3]),
        removal_policy=st.sampled_from([RemovalPolicy.RETAIN, RemovalPolicy.DESTROY]),
        tags=_TAGS,
    ),
    AuditedTable: st.fixed_dictionaries(
        {"partition_key": st.builds(dynamodb.Attribute, name=st.just("pk"), type=st.sampled_from(list(dynamodb.AttributeType)))},
        optional={
            "sort_key": st.builds(dynamodb.Attribute, name=st.just("sk"), type=st.sampled_from(list(dynamodb.AttributeType))),
            "time_to_live_attribute": st.just("expires_at"),
            "stream": st.sampled_from(list(dynamodb.StreamViewType)),
            "point_in_time_recovery_period_days": st.integers(1, 35),
            "contributor_insights": st.booleans(),
            "table_class": st.sampled_from(list(dynamodb.TableClass)),
            "throttled_requests_alarm_threshold": st.integers(1, 100),
            "alarm_period": st.integers(1, 60).map(Duration.minutes),
            "tags": _TAGS,
        },
    ),
    AlertingFunction: _optional(
        memory_size=st.integers(128, 10240),
        timeout=st.integers(1, 900).map(Duration.seconds),
        retry_attempts=st.integers(0, 2),
        powertools=st.booleans(),
        reserved_concurrent_executions=st.integers(1, 100),
        log_retention=st.sampled_from([logs.RetentionDays.ONE_WEEK, logs.RetentionDays.ONE_YEAR, logs.RetentionDays.TEN_YEARS]),
        environment=st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{1,10}", fullmatch=True).filter(lambda n: not n.startswith("AWS")), st.text(max_size=10), max_size=3),
        description=st.text(max_size=256),
        dashboard=st.booleans(),
        alert_emails=st.lists(st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True), max_size=2, unique=True),
        vpc_opt_out_reason=_REASON,
        tags=_TAGS,
    ).map(lambda props: {**_required(AlertingFunction), **props}),
    SecureQueue: _optional(
        visibility_timeout=st.integers(0, 12 * 3600).map(Duration.seconds),
        retention_period=st.integers(2 * 3600, 13 * 86400).map(Duration.seconds),
        max_receive_count=st.integers(1, 1000),
        receive_message_wait_time=st.integers(0, 20).map(Duration.seconds),
        delivery_delay=st.integers(0, 900).map(Duration.seconds),
        fifo=st.booleans(),
        dead_letter_messages_alarm_threshold=st.integers(1, 100),
        oldest_message_age_alarm_threshold=st.integers(60, 3599).map(Duration.seconds),
        alarm_evaluation_periods=st.integers(1, 5),
        tags=_TAGS,
    ),
    DocumentPipeline: _optional(
        max_document_bytes=st.integers(1, 5 * 1024**4),
        allowed_content_types=st.lists(st.sampled_from(DEFAULT_ALLOWED_CONTENT_TYPES), min_size=1, max_size=4, unique=True),
        upload_url_expiry=st.integers(1, 7 * 24 * 60).map(Duration.minutes),
        download_url_expiry=st.integers(1, 7 * 24 * 60).map(Duration.minutes),
        processor_memory_size=st.integers(128, 10240),
        cors_origins=st.lists(st.from_regex(r"https://[a-z]{1,10}\.example\.com", fullmatch=True), max_size=2),
        alert_emails=st.lists(st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True), max_size=2, unique=True),
        tags=_TAGS,
    ),
}


@pytest.mark.parametrize("construct", CONSTRUCTS, ids=lambda c: c.__name__)
def test_valid_values_synthesize_with_no_unacknowledged_finding(construct):
    @SYNTHESIS
    @given(VALID[construct])
    def check(props):
        synth = synthesize(lambda stack: construct(stack, "Subject", **props))
        assert not synth.nag.findings, "\n".join(map(str, synth.nag.findings))

    check()
