"""Request limits checked before any body is parsed: body size per route class, and how deep JSON may nest."""

from __future__ import annotations

import inspect
import json
from itertools import accumulate
from typing import Any

from flask import Flask, Request, request
from werkzeug.datastructures import ImmutableMultiDict

from backend.errors import NestedTooDeep, NotAnObject, PayloadTooLarge

# Deeper than any real request (a category rule's conditions nest a few levels), far below the ~1,000 frames at
# which the json and pydantic recursion gives up with a 500, and the ~250 at which a stored value can't be sent back.
MAX_JSON_DEPTH = 32

# Outside strings, an opening bracket steps one level in (+1) and a closing one steps out (0xff read signed: -1).
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of the JSON text DATA nest deeper than LIMIT (brackets in strings are text)."""
    # Malformed text is counted the way a parser reads it up to its first error, where the parser stops too.
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the common case, in one pass
    if isinstance(data, bytes) and json.detect_encoding(data) not in ("utf-8", "utf-8-sig"):
        try:  # UTF-16/32 (json.loads accepts them): a bracket byte may be half of another character there
            raw = data.decode(json.detect_encoding(data), "surrogatepass").encode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return False  # json.loads fails on the same decoding, before it could recurse
    # Every step runs in C: a crafted 1 MiB body costs about a tenth of a second. In UTF-8 no byte of a multi-byte
    # character is ASCII, so the bytes below are the JSON's own. Escapes go first (\\ before \", as a parser reads
    # them from the left); then every other piece between quotes is outside the strings.
    raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(raw.split(b'"')[::2])
    # Keep the brackets as +1/-1 steps; the highest running sum is the depth.
    steps = memoryview(outside.translate(_STEPS, _NOT_A_BRACKET)).cast("b")
    return max(accumulate(steps), default=0) > limit


def _top_level_string(raw: bytes) -> bool:
    """Whether the JSON text RAW (any encoding json.loads accepts) starts with a string."""
    head = raw[:64].decode(json.detect_encoding(raw), "ignore")
    return head.lstrip("\ufeff \t\r\n")[:1] == '"'


def nesting_depth(value: Any, *, stop_after: int = MAX_JSON_DEPTH) -> int:
    """How deep lists and dicts nest in VALUE (walked without recursion; stops counting past STOP_AFTER)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > stop_after:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep() -> NestedTooDeep:
    return NestedTooDeep(
        f"The JSON nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects.", details={"limit": MAX_JSON_DEPTH}
    )


class LimitedRequest(Request):
    """A request whose form fields are checked for JSON nesting as soon as the form is read."""

    def _load_form_data(self) -> None:
        # flask-openapi3 runs json.loads on every form field (the import's `mapping`), with the standard library:
        # each one is JSON text. Checked here, when the route reads its form (after its sign-in check), rather than
        # in before_request, so an anonymous upload is refused before it is parsed at all.
        super()._load_form_data()
        if any(json_too_deep(value) for _, value in self.form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict()  # nothing deep stays for a later reader
            raise _too_deep()


def upload_endpoints(app: Flask) -> frozenset[str]:
    """Endpoints whose view takes a multipart `form` (flask-openapi3): the statement and CSV uploads."""
    return frozenset(
        endpoint for endpoint, view in app.view_functions.items() if "form" in inspect.signature(view).parameters
    )


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MiB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KiB"


def init_app(app: Flask, *, json_bytes: int, upload_bytes: int) -> None:
    """Check every request's body size and nesting before a view (or flask-openapi3 for it) parses the body."""
    # Called after the routes are registered: the upload endpoints are found among them.
    app.request_class = LimitedRequest
    uploads = upload_endpoints(app)
    json_bytes = min(json_bytes, upload_bytes)

    @app.before_request
    def _check_body() -> None:
        is_upload = request.endpoint in uploads and request.mimetype == "multipart/form-data"
        limit, kind = (upload_bytes, "uploads") if is_upload else (json_bytes, "JSON requests")
        # Also bounds what werkzeug reads when there is no Content-Length (chunked bodies).
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(
                f"The request body is larger than {_size(limit)}, the limit for {kind}.", details={"limit": limit}
            )
        # Cached: get_json later parses these same bytes. (Form fields: LimitedRequest.)
        if request.is_json:
            raw = request.get_data(cache=True)
            if json_too_deep(raw):
                raise _too_deep()
            # flask-openapi3 parses a top-level JSON *string* again as the body (model_validate_json), so its
            # content would escape the depth scan above; no route takes one.
            if _top_level_string(raw):
                raise NotAnObject(
                    "The JSON body must be an object.",
                    details=[{"loc": [], "msg": "Input should be an object", "type": "model_type"}],
                )
