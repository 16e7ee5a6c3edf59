"""The one place outbound HTTP clients are built: timeouts, User-Agent, retries with backoff, error classes."""

from __future__ import annotations

import email.utils
import functools
import ipaddress
import json
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from httpx import URL, InvalidURL

from integrations.providers.base import (
    ProviderAuthError,
    ProviderError,
    ProviderMalformedError,
    ProviderRequestError,
    ProviderTransientError,
)

log = logging.getLogger(__name__)

USER_AGENT = "Spendwatch/0.1 (self-hosted spend monitor)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is retried on 429/5xx and network errors."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    # Injected so tests (and bench) can run without real sleeping.
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ATTEMPT (1-based); the server's Retry-After wins."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2 ** (attempt - 1))
        return min(backoff * (0.5 + random.random() / 2), self.max_delay)  # noqa: S311 - jitter, not crypto


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process. Building one loads the CA bundle (~40 ms of CPU): paid per
    client, a sync cycle over a thousand accounts would spend most of its time here."""
    import certifi  # httpx's own CA bundle, so verification is the same as httpx's default

    return ssl.create_default_context(cafile=certifi.where())


@functools.cache
def _pool() -> httpx.HTTPTransport:
    """The process's connection pool: accounts of one provider reuse its open connections and TLS sessions
    instead of a handshake per account. No bound here: the sync pool bounds concurrency."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=64, keepalive_expiry=30)
    return httpx.HTTPTransport(verify=tls_context(), limits=limits)


class _Lent(httpx.BaseTransport):
    """The shared pool as one client's transport: closing that client leaves the pool open for the others.
    (Connections carry no credentials: each request sends its own headers.)"""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _pool().handle_request(request)


def build_client(
    *,
    base_url: str,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client with Spendwatch's timeouts and User-Agent, on the shared connection pool unless
    TRANSPORT is given (tests)."""
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        transport=transport or _Lent(),
        follow_redirects=False,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


ErrorMessage = Callable[[Any], str | None]


def _error_text(response: httpx.Response, extract: ErrorMessage | None) -> str:
    """A short, safe description of an error response (the provider's message, never our request)."""
    message = None
    if extract is not None:
        try:
            message = extract(response.json())
        except (ValueError, TypeError, KeyError, AttributeError):
            message = None
    text = (message or response.reason_phrase or "error").strip().replace("\n", " ")
    return text[:300]


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    label: str,
    params: Any = None,
    json_body: Any = None,
    retry: RetryPolicy | None = None,
    error_message: ErrorMessage | None = None,
) -> Any:
    """Send a request and return its decoded JSON body, retrying 429/5xx and network errors.

    Raises ProviderAuthError (401/403: fix the credentials), ProviderTransientError (gave up retrying),
    ProviderRequestError (another 4xx) or ProviderMalformedError (a 2xx that is not JSON).
    LABEL names the provider in messages ("OpenAI"); messages never contain credentials.
    """
    retry = retry or RetryPolicy()
    last_problem = ""
    for attempt in range(1, retry.attempts + 1):
        retry_after: float | None = None
        try:
            response = client.request(method, url, params=params, json=json_body)
        except httpx.TimeoutException:
            last_problem = f"{label} did not answer in time"
        except httpx.TransportError as exc:
            last_problem = f"could not reach {label} ({type(exc).__name__})"
        else:
            status = response.status_code
            if status in (401, 403):
                raise ProviderAuthError(
                    f"{label} refused the credentials (HTTP {status}: {_error_text(response, error_message)})."
                )
            if status in RETRYABLE_STATUS:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last_problem = f"{label} answered HTTP {status} ({_error_text(response, error_message)})"
            elif status >= 400:
                raise ProviderRequestError(
                    f"{label} rejected the request (HTTP {status}: {_error_text(response, error_message)})."
                )
            else:
                try:
                    # Decimal for every JSON number with a fraction: money must not pass through binary floats.
                    return response.json(parse_float=Decimal)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise ProviderMalformedError(
                        f"{label} sent a response that is not valid JSON (HTTP {status})."
                    ) from None
        if attempt < retry.attempts:
            wait = retry.delay(attempt, retry_after)
            log.info("%s: %s; retry %d/%d in %.1fs", label, last_problem, attempt, retry.attempts - 1, wait)
            retry.sleep(wait)
    raise ProviderTransientError(f"{last_problem}; gave up after {retry.attempts} attempts.")


def get_json(
    client: httpx.Client,
    path: str,
    *,
    label: str,
    secret: str,
    auth_hint: str = "",
    params: Any = None,
    retry: RetryPolicy | None = None,
    error_message: ErrorMessage | None = None,
) -> Any:
    """A GET through request_json whose errors never contain SECRET (even if the provider echoes it back);
    auth errors end with AUTH_HINT (e.g. which kind of key is needed)."""
    try:
        return request_json(client, "GET", path, label=label, params=params, retry=retry, error_message=error_message)
    except ProviderAuthError as exc:
        raise ProviderAuthError(exc.message.replace(secret, "[redacted]") + auth_hint) from None
    except ProviderError as exc:
        if secret in exc.message:
            raise type(exc)(exc.message.replace(secret, "[redacted]")) from None
        raise


def expect(condition: bool, label: str, what: str) -> None:
    """Raise ProviderMalformedError unless CONDITION: the response did not have the documented shape."""
    if not condition:
        raise ProviderMalformedError(f"{label} sent an unexpected response: {what}.")


class UnsafeURLError(ValueError):
    """A user-supplied URL that outbound requests must not use; the message says why (and names no secret)."""


Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    """Every address HOST resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def _refused_reason(address: str) -> str | None:
    """Why ADDRESS is not a public internet address, or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private or not ip.is_global:
        return "a private or reserved address"
    return None


def check_outbound_url(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> URL:
    """Refuse (UnsafeURLError) a URL that is not http(s), is malformed, or whose host is or resolves to a
    private, loopback, link-local (169.254.169.254 metadata), unique-local or unspecified address, unless
    ALLOW_PRIVATE. A host that does not resolve at all passes: the request itself will fail (and retry).
    Check again right before each request: DNS answers change."""
    try:
        parsed = URL(url)
    except (InvalidURL, TypeError, ValueError):
        raise UnsafeURLError("The URL is not valid.") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURLError("The URL must start with http:// or https://.")
    host = parsed.host
    if not host or any(ch.isspace() for ch in url):
        raise UnsafeURLError("The URL must name a host, e.g. https://hooks.example.com/spendwatch.")
    if parsed.userinfo:
        raise UnsafeURLError("The URL must not carry a user name or password; use a header instead.")
    if allow_private:
        return parsed
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = (resolve or _resolve)(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    for address in addresses:
        reason = _refused_reason(address)
        if reason:
            raise UnsafeURLError(
                f"The URL's host {host} resolves to {reason} ({address}); private networks are not allowed "
                "unless an instance admin turns on allow_private_webhooks."
            )
    return parsed


__all__ = [
    "ProviderError",
    "RetryPolicy",
    "UnsafeURLError",
    "build_client",
    "check_outbound_url",
    "expect",
    "get_json",
    "parse_retry_after",
    "request_json",
]


def cursor_pages(
    get: Callable[[list[tuple[str, str | int]]], Any], path: str, params: list[tuple[str, str | int]], label: str
) -> Iterator[dict[str, Any]]:
    """Every bucket object of a `data` / `has_more` / `next_page` paged endpoint (OpenAI's and Anthropic's admin
    APIs), pages fetched in order through GET(params). A page that loops back to a cursor already seen is a
    malformed answer, not an endless sync."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        body = get(params + ([("page", cursor)] if cursor is not None else []))
        expect(isinstance(body, dict), label, f"{path} did not return an object")
        data = body.get("data")
        expect(isinstance(data, list), label, f"{path} has no data list")
        for bucket in data:
            expect(isinstance(bucket, dict), label, f"{path} has a bucket that is not an object")
            yield bucket
        has_more = body.get("has_more", False)
        expect(isinstance(has_more, bool), label, f"{path} has_more is not a boolean")
        if not has_more:
            return
        cursor = body.get("next_page")
        expect(isinstance(cursor, str) and bool(cursor), label, f"{path} has_more without next_page")
        expect(cursor not in seen, label, f"{path} repeated a page cursor")
        seen.add(str(cursor))
