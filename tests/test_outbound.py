"""The outbound-address policy under attack: a member re-pointing a provider at their own listener, a hostile
endpoint's error page, hosts that do not resolve, IPv6 spellings of loopback, a DNS answer that changes between the
check and the connection, and a SimpleFIN bridge on loopback after the admin turned private networks off."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from backend.models import ProviderAccount
from integrations import http
from integrations.channels.base import Message, SendContext, SmtpConfig, Target
from integrations.channels.webhook import send
from jobs.sync import SyncDispatcher
from tests.channel_helpers import BUDGET_PAYLOAD
from tests.conftest import Api
from tests.fakes.banks import FakeBanks
from tests.fakes.providers import OPENAI_ADMIN_KEY, FakeProviders

SECRET_PAGE = "INTERNAL SECRET PAGE: db password is hunter2"


@dataclass
class Listener:
    """A loopback HTTP server that records every request and answers STATUS with BODY (and REASON)."""

    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes = b"{}"
    reason: str | None = None
    content_type: str = "application/json"


@pytest.fixture
def listener() -> Iterator[Listener]:
    state = Listener()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length),
                }
            )
            self.send_response(state.status, state.reason)
            self.send_header("Content-Type", state.content_type)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _message() -> Message:
    return Message("msg_1", 1, "budget.threshold_crossed", "firing", dt.datetime.now(dt.UTC), BUDGET_PAYLOAD)


def _member(api: Api, owner_token: str, workspace_id: int) -> str:
    invite = api.call(
        "POST",
        f"/api/workspaces/{workspace_id}/invites",
        owner_token,
        json={"email": "m@example.com", "role": "member"},
    )
    return str(api.register("m@example.com", invite_token=invite.get_json()["token"])["access_token"])


def _sync(app: Any) -> None:
    state = app.extensions["spendwatch"]
    dispatcher = SyncDispatcher(state.db, state.settings)
    try:
        dispatcher(wait_for_completion=True)
    finally:
        dispatcher.shutdown()


# ------------------------------------------------------------------------------ 1: the stolen provider key


def test_a_member_cannot_send_the_owners_key_to_their_listener(
    make_app: Any, fake_providers: FakeProviders, listener: Listener
) -> None:
    app = make_app(provider_base_urls={"openai": fake_providers.openai_url})
    api = Api(app.test_client())
    owner = api.register("owner@example.com")
    token, ws = owner["access_token"], owner["workspaces"][0]["workspace_id"]
    # Even with private networks allowed (as tests allow loopback webhooks), the account is no way to aim the key.
    api.call("PATCH", "/api/admin/settings", token, json={"allow_private_webhooks": True})
    created = api.call(
        "POST",
        "/api/accounts",
        token,
        json={"kind": "openai", "name": "Prod", "credentials": {"api_key": OPENAI_ADMIN_KEY}},
    ).get_json()
    member = _member(api, token, ws)

    for key in ("base_url", "api_base", "url", "host", "proxy"):
        patched = api.call(
            "PATCH", f"/api/accounts/{created['id']}", member, json={"config": {key: listener.url + "/v1"}}
        )
        assert patched.status_code == 422, (key, patched.get_json())
        assert patched.get_json()["error"]["details"][0]["loc"] == ["config", key]
    refused = api.call(
        "POST",
        "/api/accounts",
        member,
        json={"kind": "openai", "name": "x", "credentials": {"api_key": "sk-x"}, "config": {"base_url": listener.url}},
    )
    assert refused.status_code == 422

    # An account that got a base_url before the fix: the stored value is ignored, the key goes to the operator's URL.
    with app.extensions["spendwatch"].db.system_session() as s:
        s.execute(
            update(ProviderAccount)
            .where(ProviderAccount.id == created["id"])
            .values(config={"base_url": listener.url + "/v1"})
        )
        s.commit()
    tested = api.call("POST", f"/api/accounts/{created['id']}/test", member)
    assert tested.status_code == 200 and tested.get_json()["ok"] is True, tested.get_json()
    _sync(app)
    assert listener.seen == []
    assert fake_providers.requests_for("openai")  # the configured host is where the key went


def test_a_hostile_providers_error_page_is_never_echoed(make_app: Any, listener: Listener) -> None:
    # The operator's override is trusted to be reached, not to be believed: its error text is not shown.
    app = make_app(provider_base_urls={"openai": listener.url + "/v1", "openrouter": listener.url + "/api/v1"})
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    bodies = [
        (SECRET_PAGE.encode() * 20, "text/html", SECRET_PAGE),  # a raw page, and the reason phrase says it too
        (b'{"error": {"message": "' + (SECRET_PAGE + " ").encode() * 10 + b'"}}', "application/json", None),
        (b'{"error": {"message": "<b>' + SECRET_PAGE.encode() + b'</b>"}}', "application/json", None),
    ]
    for kind in ("openai", "openrouter"):
        account = api.call(
            "POST", "/api/accounts", token, json={"kind": kind, "name": kind, "credentials": {"api_key": "sk-admin-1"}}
        ).get_json()
        for body, content_type, reason in bodies:
            listener.status, listener.body, listener.content_type, listener.reason = 400, body, content_type, reason
            tested = api.call("POST", f"/api/accounts/{account['id']}/test", token).get_json()
            assert tested["ok"] is False and "HTTP 400" in tested["message"]
            assert "SECRET" not in tested["message"] and "hunter2" not in tested["message"], tested["message"]
            shown = api.call("GET", f"/api/accounts/{account['id']}", token).get_json()
            assert "SECRET" not in str(shown)
    # A short plain message from the provider is still worth showing.
    listener.body = b'{"error": {"message": "Missing scope api.usage.read"}}'
    tested = api.call("POST", f"/api/accounts/{account['id']}/test", token).get_json()
    assert "Missing scope api.usage.read" in tested["message"]


def test_only_the_instance_admin_sets_a_provider_address(
    make_app: Any, fake_providers: FakeProviders, listener: Listener
) -> None:
    app = make_app(provider_base_urls={"anthropic": fake_providers.anthropic_url})
    api = Api(app.test_client())
    owner = api.register("owner@example.com")  # the first user is the instance admin
    token, ws = owner["access_token"], owner["workspaces"][0]["workspace_id"]
    member = _member(api, token, ws)
    attempt = {"provider_urls": {"openai": listener.url + "/v1"}}
    assert api.call("PATCH", "/api/admin/settings", member, json=attempt).status_code == 403
    for wrong in ({"simplefin": "http://x.example"}, {"openai": "ftp://x"}, {"openai": "http://u:p@x.example"}):
        refused = api.call("PATCH", "/api/admin/settings", token, json={"provider_urls": wrong})
        assert refused.status_code == 422, wrong

    saved = api.call("PATCH", "/api/admin/settings", token, json=attempt).get_json()
    assert saved["provider_urls"] == {"openai": listener.url + "/v1"} and saved["allow_private_webhooks"] is False
    listener.body = b'{"object": "page", "data": [], "has_more": false, "next_page": null}'
    account = api.call(
        "POST", "/api/accounts", member, json={"kind": "openai", "name": "o", "credentials": {"api_key": "sk-admin-7"}}
    ).get_json()
    # Trusted like the operator's setting: reached although it is loopback and private networks are off.
    api.call("POST", f"/api/accounts/{account['id']}/test", member)
    assert listener.seen and listener.seen[0]["headers"]["Authorization"] == "Bearer sk-admin-7"

    # The operator's address wins over the admin's; null removes the admin's.
    api.call("PATCH", "/api/admin/settings", token, json={"provider_urls": {"anthropic": listener.url}})
    other = api.call(
        "POST", "/api/accounts", member, json={"kind": "anthropic", "name": "a", "credentials": {"api_key": "k"}}
    ).get_json()
    seen = len(listener.seen)
    api.call("POST", f"/api/accounts/{other['id']}/test", member)
    assert len(listener.seen) == seen and fake_providers.requests_for("anthropic")
    cleared = api.call("PATCH", "/api/admin/settings", token, json={"provider_urls": {"openai": None}}).get_json()
    assert cleared["provider_urls"] == {"anthropic": listener.url}


def test_account_config_holds_only_the_kinds_known_settings(api: Api, owner: dict[str, Any]) -> None:
    token = owner["access_token"]

    def create(kind: str, config: Any, credentials: dict[str, str] | None = None) -> Any:
        body = {"kind": kind, "name": kind, "credentials": credentials or {}, "config": config}
        return api.call("POST", "/api/accounts", token, json=body)

    assert create("manual", {"vendor": "groq"}).status_code == 201
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    for config in ({"vendor": "g" * 201}, {"vendor": 3}, {"vendor": "groq", "other": 1}, {"vendor": deep}, deep):
        refused = create("manual", config)
        assert refused.status_code == 422, config
        error = refused.get_json()["error"]
        # 200 levels never reach the config check: the request-level nesting limit refuses the body first.
        assert error["code"] == "nesting_too_deep" or error["details"][0]["loc"][0] == "config"
    assert create("simplefin", {"include_pending": "yes"}, {"setup_token": "x"}).status_code == 422
    plaid = {"client_id": "c", "secret": "s", "access_token": "a"}
    assert create("plaid", {"environment": ["sandbox"]}, plaid).status_code == 422
    demo = create("demo", {}, {"api_key": "demo-1"}).get_json()
    patched = api.call("PATCH", f"/api/accounts/{demo['id']}", token, json={"config": {"base_url": "http://x"}})
    assert patched.status_code == 422
    assert api.call("GET", f"/api/accounts/{demo['id']}", token).get_json()["config"] == {}


# ------------------------------------------------------------------------------ 11: the address check itself


def _strict_get(url: str, *, resolve: http.Resolver | None = None, allow_private: bool = False) -> httpx.Response:
    transport = http.outbound_transport(http.OutboundPolicy(allow_private=allow_private), resolve=resolve)
    with http.build_client(base_url="", policy=http.OutboundPolicy(), transport=transport) as client:
        return client.get(url)


@pytest.mark.parametrize(
    "template",
    [
        "http://localhost.:{port}/",  # a name that does not resolve here: refused, not waved through
        "http://[::127.0.0.1]:{port}/",  # IPv4-compatible IPv6 for loopback
        "http://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped: a dual-stack socket reaches 127.0.0.1 with it
        "http://[2002:7f00:1::]:{port}/",  # 6to4 of 127.0.0.1
        "http://[::ffff:0:7f00:1]:{port}/",  # IPv4-translated (SIIT) 127.0.0.1
        "http://127.1:{port}/",
    ],
)
def test_loopback_spellings_are_refused_at_check_and_at_connect(template: str, listener: Listener) -> None:
    url = template.format(port=listener.url.rsplit(":", 1)[1])
    with pytest.raises(http.UnsafeURLError) as refused:
        http.check_outbound_url(url, allow_private=False)
    assert "(127.0.0.1)" not in str(refused.value)  # a member learns that it is refused, not where a name points
    with pytest.raises(http.UnsafeURLError):
        _strict_get(url)
    assert listener.seen == []


def test_a_dns_answer_that_changes_after_the_check_is_refused(listener: Listener) -> None:
    port = int(listener.url.rsplit(":", 1)[1])
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])  # public for the check, loopback for the connection

    def rebinding(host: str, _port: int) -> list[str]:
        return next(answers)

    url = f"http://rebind.example:{port}/hook"
    http.check_outbound_url(url, allow_private=False, resolve=rebinding)  # the form's check saw a public address
    with pytest.raises(http.UnsafeURLError, match="loopback"):
        _strict_get(url, resolve=rebinding)
    assert listener.seen == []


def test_the_connection_goes_to_the_address_that_was_checked(listener: Listener) -> None:
    # "pinned.example" resolves nowhere but through the injected resolver: reaching the listener proves the socket
    # was opened to the checked address, with the name kept for the Host header (and SNI on https).
    port = int(listener.url.rsplit(":", 1)[1])
    lookups: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    response = _strict_get(f"http://pinned.example:{port}/x", resolve=resolve, allow_private=True)
    assert response.status_code == 200 and lookups == ["pinned.example"]
    assert listener.seen[0]["headers"]["Host"] == f"pinned.example:{port}"


def test_a_webhook_to_an_ipv6_spelling_of_loopback_is_not_sent(listener: Listener) -> None:
    port = listener.url.rsplit(":", 1)[1]
    context = SendContext(smtp=SmtpConfig(), mail_outbox=Path("unused"), allow_private_webhooks=False)
    message = _message()
    mapped = send(
        message, Target(kind="webhook", config={}, secrets={"url": f"http://[::ffff:127.0.0.1]:{port}/h"}), context
    )
    assert not mapped.ok and mapped.permanent and "loopback" in str(mapped.error), mapped
    # A name that does not resolve is not sent to; the notification is retried later (DNS may be down).
    dotted = send(message, Target(kind="webhook", config={}, secrets={"url": f"http://localhost.:{port}/h"}), context)
    assert not dotted.ok and "does not resolve" in str(dotted.error), dotted
    assert listener.seen == []


def test_a_webhook_receivers_reason_phrase_is_not_shown(listener: Listener) -> None:
    listener.status, listener.reason = 500, SECRET_PAGE
    context = SendContext(smtp=SmtpConfig(), mail_outbox=Path("unused"), allow_private_webhooks=True)
    result = send(_message(), Target(kind="webhook", config={}, secrets={"url": listener.url + "/h"}), context)
    assert not result.ok and "SECRET" not in str(result.error) and "Internal Server Error" in str(result.error)


# ------------------------------------------------------------------------------ 10: SimpleFIN at every request


def test_simplefin_stops_reaching_loopback_once_private_networks_are_off(make_app: Any, fake_banks: FakeBanks) -> None:
    app = make_app()
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    api.call("PATCH", "/api/admin/settings", token, json={"allow_private_webhooks": True})
    created = api.call(
        "POST",
        "/api/accounts",
        token,
        json={"kind": "simplefin", "name": "Bank", "credentials": {"setup_token": fake_banks.setup_token()}},
    ).get_json()
    assert api.call("POST", f"/api/accounts/{created['id']}/test", token).get_json()["ok"] is True

    api.call("PATCH", "/api/admin/settings", token, json={"allow_private_webhooks": False})
    before = len(fake_banks.requests)
    tested = api.call("POST", f"/api/accounts/{created['id']}/test", token).get_json()
    assert tested["ok"] is False and "loopback" in tested["message"], tested
    api.call("POST", f"/api/accounts/{created['id']}/sync", token)
    _sync(app)
    shown = api.call("GET", f"/api/accounts/{created['id']}", token).get_json()
    assert shown["status"] != "ok" and "loopback" in (shown["last_error"] or ""), shown
    assert len(fake_banks.requests) == before  # neither the test nor the sync reached the bridge


def test_simplefin_error_text_from_the_bridge_is_not_shown_verbatim(make_app: Any, fake_banks: FakeBanks) -> None:
    app = make_app()
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    api.call("PATCH", "/api/admin/settings", token, json={"allow_private_webhooks": True})
    created = api.call(
        "POST",
        "/api/accounts",
        token,
        json={"kind": "simplefin", "name": "Bank", "credentials": {"setup_token": fake_banks.setup_token()}},
    ).get_json()
    fake_banks.fail("simplefin", 400, body={"errors": [SECRET_PAGE * 10]})
    tested = api.call("POST", f"/api/accounts/{created['id']}/test", token).get_json()
    assert tested["ok"] is False and "HTTP 400" in tested["message"] and "SECRET" not in tested["message"], tested
