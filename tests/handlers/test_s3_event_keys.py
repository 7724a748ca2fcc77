"""The one rule every handler decodes S3 event keys with (``handlers/_shared/s3_event_keys.py``)."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st
from serverless_patterns.handlers.document_processor.s3_event_keys import (
    MAX_KEY_BYTES,
    MalformedKey,
    decode_key,
)

from serverless_patterns.handlers.object_metadata_writer import s3_event_keys as writer_rule

keys = st.text(st.characters(codec="utf-8"), min_size=1, max_size=200)


@given(keys, st.sampled_from(["", "/"]))
def test_every_key_round_trips_however_s3_escapes_it(key, safe):
    assert decode_key(quote_plus(key, safe=safe)) == key


def test_plus_is_a_space_and_escapes_are_bytes_of_utf8():
    assert decode_key("Q1+report%2Bfinal.pdf") == "Q1 report+final.pdf"
    assert decode_key("100%25.pdf") == "100%.pdf"
    assert decode_key("r%C3%A9sum%C3%A9") == "résumé"


@pytest.mark.parametrize(
    "raw", ["", None, 7, "%ZZ", "100%", "a%4", "%C3", "%FF", "%ED%A0%80", "\ud800", "a" * (MAX_KEY_BYTES + 1)]
)
def test_what_is_not_an_encoded_s3_key_is_malformed(raw):
    with pytest.raises(MalformedKey):
        decode_key(raw)


def test_every_handler_that_decodes_keys_uses_the_same_file():
    assert writer_rule.__file__ == decode_key.__globals__["__file__"]
