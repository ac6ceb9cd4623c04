"""Requests, error replies and pagination as the Zendesk API does them.

Errors are exceptions so that a check deep inside an update can refuse the whole request
before anything is applied; pagination is shared because every list endpoint pages the same
two ways (cursor with `page[size]`, or the older `page`/`per_page` offsets).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class ApiError(Exception):
    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found() -> ApiError:
    return ApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def invalid(description: str, attribute: str = "base") -> ApiError:
    """A 422 shaped like Zendesk's validation errors, so the adapter's error path is real."""
    return ApiError(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {attribute: [{"description": description}]},
        },
    )


def bad_request(description: str, error: str = "InvalidValue") -> ApiError:
    return ApiError(400, {"error": error, "description": description})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)  # from the route's pattern

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: int, maximum: int) -> int:
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"{name} must be an integer") from None
        if not 1 <= value <= maximum:
            raise bad_request(
                f"{name} must be between 1 and {maximum}", error="InvalidPaginationParameter"
            )
        return value

    def includes(self, name: str) -> bool:
        return name in {part.strip() for part in (self.arg("include") or "").split(",")}

    def object(self, key: str) -> dict[str, Any]:
        """The `{"<key>": {...}}` wrapper every create and update body uses."""
        if not isinstance(self.body, dict) or not isinstance(self.body.get(key), dict):
            raise bad_request(f"Expected a JSON object under '{key}'", error="InvalidParameter")
        inner: dict[str, Any] = self.body[key]
        return inner


def encode_cursor(*position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> tuple[int, ...]:
    """Cursors are opaque to the client; a tampered or foreign one is a 400, as on Zendesk."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("Invalid cursor", error="InvalidPaginationParameter") from None
    if (
        not isinstance(position, list)
        or len(position) != parts
        or not all(isinstance(p, int) for p in position)
    ):
        raise bad_request("Invalid cursor", error="InvalidPaginationParameter")
    return tuple(position)


def page_url(base_url: str, path: str, params: Sequence[tuple[str, str]]) -> str:
    return f"{base_url}{path}?{urlencode(list(params))}"


def _kept(request: Request, dropped: Sequence[str]) -> list[tuple[str, str]]:
    return [(k, v) for k, values in request.query.items() if k not in dropped for v in values]


def cursor_page(
    request: Request,
    base_url: str,
    items: Sequence[T],
    key: Callable[[T], int],
    *,
    default_size: int = 100,
    max_size: int = 100,
) -> tuple[list[T], dict[str, Any]]:
    """One page of `items` (already in key order) and the `meta` and `links` that go with it.

    The cursor is the key of the last item shown, not an offset, so records added between two
    requests neither repeat nor get skipped.
    """
    size = request.int_arg("page[size]", default_size, max_size)
    after = request.arg("page[after]")
    before = request.arg("page[before]")
    if after:
        (mark,) = decode_cursor(after, 1)
        rest = [i for i in items if key(i) > mark]
        page, has_more = rest[:size], len(rest) > size
    elif before:
        (mark,) = decode_cursor(before, 1)
        rest = [i for i in items if key(i) < mark]
        page, has_more = rest[-size:], len(rest) > size
    else:
        page, has_more = list(items[:size]), len(items) > size
    after_cursor = encode_cursor(key(page[-1])) if page else None
    before_cursor = encode_cursor(key(page[0])) if page else None
    kept = _kept(request, ("page[after]", "page[before]", "page[size]"))
    sized = [*kept, ("page[size]", str(size))]
    meta = {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor}
    links = {
        "next": page_url(base_url, request.path, [*sized, ("page[after]", after_cursor)])
        if has_more and after_cursor
        else None,
        "prev": page_url(base_url, request.path, [*sized, ("page[before]", before_cursor)])
        if before_cursor and (after or before)
        else None,
    }
    return page, {"meta": meta, "links": links}


def offset_page(
    request: Request,
    base_url: str,
    items: Sequence[T],
    *,
    per_page_max: int = 100,
    limit: int | None = None,
) -> tuple[list[T], dict[str, Any]]:
    """The older `page`/`per_page` pagination (`next_page`, `previous_page`, `count`).

    `limit` caps how deep one may page (search stops at 1000 results) while `count` still
    reports every match, as Zendesk does.
    """
    per_page = request.int_arg("per_page", 100, per_page_max)
    number = request.int_arg("page", 1, 1_000_000)
    reachable = list(items[:limit] if limit is not None else items)
    start = (number - 1) * per_page
    if limit is not None and start >= limit > 0:
        raise ApiError(
            422,
            {
                "error": "invalid",
                "description": "Requested response size was greater than Search Response Limits",
            },
        )
    page = reachable[start : start + per_page]
    kept = _kept(request, ("page", "per_page"))

    def link(n: int) -> str:
        return page_url(
            base_url, request.path, [*kept, ("page", str(n)), ("per_page", str(per_page))]
        )

    return page, {
        "next_page": link(number + 1) if start + per_page < len(reachable) else None,
        "previous_page": link(number - 1) if number > 1 else None,
        "count": len(items),
    }


def paged(
    request: Request,
    base_url: str,
    items: Sequence[T],
    key: Callable[[T], int],
) -> tuple[list[T], dict[str, Any]]:
    """Cursor pagination when the client asks for it with `page[size]`, offsets otherwise."""
    if any(k.startswith("page[") for k in request.query):
        return cursor_page(request, base_url, items, key)
    return offset_page(request, base_url, items)
