"""Whatever arrives at /alertmanager: never a 5xx, and nothing handed over without credentials."""

from __future__ import annotations

import asyncio
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.receiver_harness import BASIC, BEARER, build_app

#: Header values HTTP can carry (latin-1), without the line breaks no client would send.
HEADER_TEXT = st.text(st.characters(max_codepoint=255, exclude_categories=["Cc"]), max_size=80)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
#: Bodies that are not JSON at all, JSON of any shape, and near-misses of a real notification.
BODIES = (
    st.binary(max_size=512)
    | JSON_VALUES.map(lambda value: json.dumps(value).encode())
    | st.fixed_dictionaries(
        {"version": st.sampled_from(["4", "3", 4]), "status": HEADER_TEXT},
        optional={"alerts": st.lists(JSON_VALUES, max_size=3), "groupKey": JSON_VALUES},
    ).map(lambda value: json.dumps(value).encode())
)
AUTHORIZATION = st.sampled_from([BEARER, BASIC, {}]) | HEADER_TEXT.map(
    lambda text: {"Authorization": text}
)
CONTENT_TYPES = st.sampled_from(["application/json", "text/plain", ""]) | HEADER_TEXT


RECEIVER = build_app()


async def post(body: bytes, headers: dict[bytes, bytes]) -> httpx.Response:
    transport = httpx.ASGITransport(app=RECEIVER.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
        return await client.post("/alertmanager", content=body, headers=headers)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES, authorization=AUTHORIZATION, content_type=CONTENT_TYPES)
def test_no_request_gets_a_server_error_and_none_without_credentials_changes_anything(
    body: bytes, authorization: dict[str, str], content_type: str
) -> None:
    RECEIVER.dispatcher.submitted.clear()
    RECEIVER.dispatcher.resolved.clear()
    # Raw latin-1 bytes: a client may send any of them, though httpx refuses non-ASCII text.
    headers = {
        name.encode(): value.encode("latin-1")
        for name, value in {**authorization, "Content-Type": content_type}.items()
    }

    answer = asyncio.run(post(body, headers))

    assert answer.status_code < 500, answer.text
    if authorization not in (BEARER, BASIC):
        assert answer.status_code == 401
        assert RECEIVER.dispatcher.submitted == []
        assert RECEIVER.dispatcher.resolved == []
