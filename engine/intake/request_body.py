"""Reading a request body within a size limit, refusing it as soon as the limit is passed."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLargeError(Exception):
    """The body is (or declares itself) larger than allowed."""


async def read_limited_body(request: Request, limit: int) -> bytes:
    """Read the body, at most `limit` bytes.

    A ``Content-Length`` over the limit is refused before reading anything; otherwise the
    stream is counted as it arrives (chunked bodies have no length), so an oversized body is
    never held in memory whole.

    Raises:
        BodyTooLargeError: The body is larger than `limit`.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"body of {declared} bytes is over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError(f"body is over the limit of {limit} bytes")
    return bytes(body)
