"""The one place outbound HTTP clients are built: timeouts, User-Agent, retries with backoff, error classes."""

from __future__ import annotations

import email.utils
import functools
import http as http_status
import ipaddress
import json
import logging
import random
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpcore
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


@dataclass(frozen=True)
class OutboundPolicy:
    """Where outbound connections may go. Public internet addresses always; private, loopback, link-local and
    reserved ones only when ALLOW_PRIVATE (the instance admin's allow_private_webhooks); the (host, port) pairs in
    TRUSTED always: provider addresses the operator (SPENDWATCH_PROVIDER_URL_<KIND>) or the instance admin
    (provider_urls) configured, never one a workspace member chose."""

    allow_private: bool = False
    trusted: frozenset[tuple[str, int]] = frozenset()

    def trusting(self, url: str | None) -> OutboundPolicy:
        """This policy plus URL's host and port as a configured, trusted destination (None: unchanged)."""
        where = origin(url) if url else None
        return self if where is None else OutboundPolicy(self.allow_private, self.trusted | {where})


def origin(url: str) -> tuple[str, int] | None:
    """(host, port) of URL as the connection will name it (lower case, IDNA, no brackets), or None if invalid."""
    try:
        parsed = URL(url)
    except (InvalidURL, TypeError, ValueError):
        return None
    if not parsed.raw_host:
        return None
    default = 443 if parsed.scheme == "https" else 80
    return parsed.raw_host.decode("ascii").lower(), parsed.port or default


class _PolicyBackend(httpcore.NetworkBackend):
    """httpcore's network layer with the outbound-address policy at connect time: the host is resolved ONCE, every
    address checked, and the socket opened to a checked address (no second lookup to rebind). TLS still verifies
    and sends SNI for the host name: httpcore takes server_hostname from the request's origin, not from here."""

    def __init__(self, policy: OutboundPolicy, resolve: Resolver) -> None:
        self.policy = policy
        self.resolve = resolve
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in allowed_addresses(host, port, policy=self.policy, resolve=self.resolve):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next checked address, as create_connection would
                failure = exc
        assert failure is not None  # allowed_addresses never returns an empty list
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise UnsafeURLError("Outbound requests never use a Unix socket.")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def outbound_transport(policy: OutboundPolicy, *, resolve: Resolver | None = None) -> httpx.HTTPTransport:
    """A pooled transport whose every new connection passes POLICY (RESOLVE injected by tests)."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=64, keepalive_expiry=30)
    transport = httpx.HTTPTransport(verify=tls_context(), limits=limits)
    # httpx takes no network backend, so its pool is rebuilt with the same settings and ours. (Pinned by
    # tests/test_outbound.py: a refused address must never be reached, whatever httpx does internally.)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=tls_context(),
        max_connections=None,
        max_keepalive_connections=64,
        keepalive_expiry=30,
        network_backend=_PolicyBackend(policy, resolve or _resolve),
    )
    return transport


@functools.lru_cache(maxsize=64)  # a handful in practice (see OutboundPolicy); bounded if URLs keep changing
def _pool(policy: OutboundPolicy) -> httpx.HTTPTransport:
    """The process's connection pool for POLICY: accounts of one provider reuse its open connections and TLS
    sessions instead of a handshake per account. One pool per policy, so a connection opened under a looser
    policy (an operator-trusted loopback fake) is never lent to a request under a stricter one. No bound here:
    the sync pool bounds concurrency."""
    return outbound_transport(policy)


class _Lent(httpx.BaseTransport):
    """The shared pool as one client's transport: closing that client leaves the pool open for the others.
    (Connections carry no credentials: each request sends its own headers.)"""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _pool(self.policy).handle_request(request)


def build_client(
    *,
    base_url: str,
    policy: OutboundPolicy,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client with Spendwatch's timeouts and User-Agent, on the shared connection pool of POLICY (every
    connection passes the outbound-address policy) unless TRANSPORT is given (tests)."""
    return httpx.Client(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        transport=transport or _Lent(policy),
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


REASON_LENGTH = 200
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal escape sequences ("\x1b[31m"): dropped whole
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_LINK = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.\-]*://|www\.)\S*|[^\s/?#@:]+:[^\s/?#@]+@\S+")
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.]{24,}")  # anything key-like: redacted whether or not it is ours


def short_reason(text: Any, *, hide: Iterable[str] = ()) -> str | None:
    """TEXT (a provider's own error message) if it is fit to show a user: one line of printable text, no link, no
    key-like token, none of HIDE, no markup, at most REASON_LENGTH characters. None otherwise: a hostile endpoint
    can put anything there (a page it read, a phishing link, a prompt), so a long or odd message is dropped, not cut."""
    if not isinstance(text, str):
        return None
    for secret in hide:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = " ".join(_CONTROL.sub(" ", _ANSI.sub("", text)).split())
    if not text or len(text) > REASON_LENGTH or any(ch in text for ch in "<>{}`"):
        return None
    return _TOKEN.sub("[redacted]", _LINK.sub("[link removed]", text))


def status_phrase(status: int) -> str:
    """The standard phrase of STATUS: never the server's own reason phrase, which it can fill with anything."""
    try:
        return http_status.HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _error_text(response: httpx.Response, extract: ErrorMessage | None) -> str:
    """A short, safe description of an error response: the provider's structured message when short_reason keeps
    it, else the standard phrase of its status. Never the raw body nor the server's reason phrase."""
    message = None
    if extract is not None:
        try:
            message = short_reason(extract(response.json()))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            message = None
    return message or status_phrase(response.status_code)


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
        except UnresolvableHostError:  # nothing was sent; DNS may answer next time
            last_problem = f"could not resolve {label}'s host"
        except UnsafeURLError as exc:  # raised at connect time: final, retrying reaches the same address
            raise ProviderRequestError(f"{label}: the connection was refused ({exc}).") from None
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


class UnresolvableHostError(UnsafeURLError):
    """The host does not resolve (now): refused, never connected to; a later attempt may succeed."""


Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    """Every address HOST resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # the resolver's order: it ranks them


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), 6to4,
    Teredo and NAT64 forms all reach an IPv4 host, so that host is what the policy judges."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    packed = ip.packed
    if packed[:12] == bytes(12) and int(ip) > 1:  # IPv4-compatible; :: and ::1 are themselves
        found.append(ipaddress.IPv4Address(packed[12:]))
    if packed[:12] == bytes(8) + b"\xff\xff\x00\x00":  # IPv4-translated (SIIT, ::ffff:0:a.b.c.d)
        found.append(ipaddress.IPv4Address(packed[12:]))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(packed[12:]))
    return found


def _one_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
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


def _refused_reason(address: str) -> str | None:
    """Why ADDRESS is not a public internet address, or None when it is (IPv6 forms of IPv4 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(ip):
            reason = _one_reason(inner)
            if reason:
                return reason
    return _one_reason(ip)


def _literal(host: str) -> str | None:
    """HOST as an IP address when it is one ("[::1]" and "::1" alike), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


def allowed_addresses(host: str, port: int, *, policy: OutboundPolicy, resolve: Resolver | None = None) -> list[str]:
    """The addresses a connection to HOST:PORT may use: HOST resolved once, refused (UnsafeURLError) when it does
    not resolve or when any answer is refused by POLICY. The caller connects to these, never to HOST again."""
    literal = _literal(host)
    addresses = [literal] if literal else (resolve or _resolve)(host, port)
    if not addresses:
        # Fail closed: a name that does not resolve here may resolve differently for the connection.
        raise UnresolvableHostError(f"The host {host} does not resolve.")
    if policy.allow_private or (host.strip("[]").lower(), port) in policy.trusted:
        return addresses
    for address in addresses:
        reason = _refused_reason(address)
        if reason:
            # The address itself stays out of the message: it would map internal names for a workspace member.
            raise UnsafeURLError(
                f"The host {host} resolves to {reason}; private networks are not allowed "
                "unless an instance admin turns on allow_private_webhooks."
            )
    return addresses


def check_outbound_url(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> URL:
    """Refuse (UnsafeURLError) a URL that is not http(s), is malformed, or whose host does not resolve or
    resolves to a private, loopback, link-local (169.254.169.254 metadata), unique-local, reserved or unspecified
    address (IPv6 spellings of IPv4 included), unless ALLOW_PRIVATE. This is the early answer for a form; the
    connection itself is checked again, and pinned, by the transport (allowed_addresses)."""
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
    allowed_addresses(
        parsed.raw_host.decode("ascii"),
        parsed.port or (443 if parsed.scheme == "https" else 80),
        policy=OutboundPolicy(),
        resolve=resolve,
    )
    return parsed


__all__ = [
    "OutboundPolicy",
    "ProviderError",
    "RetryPolicy",
    "UnresolvableHostError",
    "UnsafeURLError",
    "build_client",
    "check_outbound_url",
    "expect",
    "get_json",
    "parse_retry_after",
    "request_json",
    "short_reason",
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
