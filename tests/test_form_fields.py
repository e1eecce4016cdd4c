"""The fast lane's form decoding (tipgraph.web.fastlane.form_fields) gives what parse_qsl gives,
fields or error, on every body: escapes well formed or not, ``+``, UTF-8 or not, blank names and
values, repeated names, too many fields, characters beyond ASCII (a GET's latin-1 environ)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipgraph.web.fastlane import form_fields

REPO = Path(__file__).resolve().parent.parent
LOWER_HEX = re.compile(r"%[0-9A-F]{2}")  # escapes spelt %c3 rather than %C3


def outcome(decode, raw: str) -> tuple:
    try:
        return ("fields", decode(raw))
    except Exception as error:  # noqa: BLE001 (the very error is what is compared)
        return ("error", type(error), str(error))


def reference(raw: str) -> list[tuple[str, str]]:
    return parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=2)


def assert_same(raw: str) -> None:
    assert outcome(form_fields, raw) == outcome(reference, raw)


CASES = [
    "", "&", "&&", "&&&", "=", "==", "query", "query=", "=x", "query=ASK%7B%7D",
    "query=ASK%7b%7d&format=json", "format=json&query=a+b%2Bc", "query=1&query=2",
    "query=1&query=2&query=3", "query=a&", "&query=a", "query=a&&", "a=b=c", "query=%",
    "query=%2", "query=%2G", "query=%%41", "query=100%", "query=%zz%41", "query=%C3%A9",
    "query=%c3%a9t%C3%A9", "query=%C3", "query=%C3%28", "query=%FF", "query=%80abc", "query=%00",
    "query=%E2%82%AC", "query=%E2%82", "query=%F0%9F%98%80", "query=%ED%A0%80", "query=\\",
    "query=\\x41", "query=\\%41", "query=%5Cx41", "query=\\u0041%41", "query=\\N{DASH}%41",
    "query=+%2B+", "q%75ery=ASK", "qu%ery=x", "query=caf\xe9", "query=caf\xe9%41", "\xe9=%C3%A9",
    "query=%C3\xe9%A9", "query=ASK\n%7B%7D", "query=%0D%0A", "query=a;b", "query=%3D%26",
]


@pytest.mark.parametrize("raw", CASES)
def test_cases(raw):
    assert_same(raw)


def test_every_example_query_as_a_form_body():
    for path in sorted((REPO / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8") + f"\n# {uuid.uuid4().hex} é €\n"
        lower_hex = LOWER_HEX.sub(lambda m: m.group().lower(), quote(text))
        for body in (urlencode({"query": text}), urlencode({"query": text, "format": "json"}),
                     "query=" + quote(text, safe=""), "query=" + lower_hex):
            assert_same(body)
            assert form_fields(body)[0] == ("query", text)


ALPHABET = st.sampled_from([
    "%", "%", "2", "4", "7", "b", "B", "C", "c", "3", "A", "9", "0", "8", "F", "f", "E", "e",
    "G", "g", "+", "&", "=", "\\", "x", "u", "N", "q", "é", "\xe9", "\xff", "\x00", "\n", " ",
    "%C3%A9", "%E2%82%AC", "%F0%9F", "%FF", "%80", "%5C", "%25", "%2B", "query=", "format=",
])


@settings(max_examples=3000, deadline=None)
@given(parts=st.lists(ALPHABET, max_size=30))
def test_random_bodies(parts):
    assert_same("".join(parts))


@settings(max_examples=500, deadline=None)
@given(raw=st.text(max_size=80))
def test_random_text(raw):
    assert_same(raw)


@settings(max_examples=500, deadline=None)
@given(value=st.text(max_size=80), name=st.sampled_from(["query", "format", "", "q"]))
def test_encoded_fields(value, name):
    assert_same(urlencode({name: value}))
    assert_same(f"{name}={quote(value, safe='')}&format=json")
