"""POST /api/admin/smtp/test: a test email through the saved SMTP settings, against a real SMTP server (aiosmtpd),
a closed port, a server without AUTH, and no SMTP at all (the mail outbox folder). Failures to reach the server
are reported in the answer (200, ok false, a reason) and never carry the password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Api
from tests.fakes.smtp import FakeSmtp, free_port

PASSWORD = "smtp-password-that-must-not-leak"


def _smtp(api: Api, token: str, **smtp: Any) -> None:
    response = api.call("PATCH", "/api/admin/settings", token, json={"smtp": smtp})
    assert response.status_code == 200, response.get_json()


def _test(api: Api, token: str, to: str = "ops@example.com") -> Any:
    return api.call("POST", "/api/admin/smtp/test", token, json={"to": to})


def test_the_message_arrives(api: Api, owner: dict[str, Any], smtp: FakeSmtp) -> None:
    token = owner["access_token"]
    _smtp(api, token, host=smtp.host, port=smtp.port, security="none", from_address="Alerts <alerts@example.com>")
    response = _test(api, token)
    assert response.status_code == 200, response.get_json()
    outcome = response.get_json()
    assert outcome["ok"] is True and outcome["error"] is None
    assert (outcome["via"], outcome["status_code"]) == ("smtp", 250)
    assert outcome["server"] == f"{smtp.host}:{smtp.port} (none)"
    [received] = smtp.messages
    assert received.rcpt_tos == ["ops@example.com"]
    mail = received.message
    assert mail["Subject"] == "[Spendwatch] Test message"
    assert mail["To"] == "ops@example.com" and mail["From"] == "Alerts <alerts@example.com>"
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None and "test email from the Spendwatch admin settings" in text.get_content()


def test_a_closed_port_is_a_reason_not_a_server_error(api: Api, owner: dict[str, Any]) -> None:
    token = owner["access_token"]
    port = free_port()  # nothing listens there
    _smtp(api, token, host="127.0.0.1", port=port, security="none", username="spend", password=PASSWORD)
    response = _test(api, token)
    assert response.status_code == 200, response.get_json()
    outcome = response.get_json()
    assert outcome["ok"] is False and outcome["via"] == "smtp"
    assert outcome["error"] == f"could not reach the mail server 127.0.0.1:{port} (connection refused)"
    assert PASSWORD not in response.get_data(as_text=True)


def test_a_server_without_login_says_so(api: Api, owner: dict[str, Any], smtp: FakeSmtp) -> None:
    token = owner["access_token"]
    _smtp(api, token, host=smtp.host, port=smtp.port, security="none", username="spend", password=PASSWORD)
    outcome = _test(api, token).get_json()
    assert outcome["ok"] is False and "no SMTP login (AUTH)" in outcome["error"]
    assert PASSWORD not in str(outcome) and smtp.messages == []


def test_tls_to_a_plain_server_is_a_tls_failure(api: Api, owner: dict[str, Any], smtp: FakeSmtp) -> None:
    token = owner["access_token"]
    _smtp(api, token, host=smtp.host, port=smtp.port, security="tls")
    outcome = _test(api, token).get_json()
    assert outcome["ok"] is False and "TLS failed" in outcome["error"]
    _smtp(api, token, security="starttls")
    outcome = _test(api, token).get_json()
    assert outcome["ok"] is False and "does not support STARTTLS" in outcome["error"]
    assert smtp.messages == []


def test_without_smtp_the_message_goes_to_the_outbox_folder(api: Api, owner: dict[str, Any], settings: Any) -> None:
    outcome = _test(api, owner["access_token"]).get_json()
    assert outcome["ok"] is True and outcome["via"] == "outbox" and outcome["server"] is None
    assert "SMTP is not set up" in outcome["note"]
    [written] = list(Path(settings.data_dir, "mail-outbox").glob("*.eml"))
    assert written.name in outcome["note"]
    assert "To: ops@example.com" in written.read_text()


def test_admins_only_and_a_valid_recipient(api: Api, owner: dict[str, Any]) -> None:
    token = owner["access_token"]
    api.call("PATCH", "/api/admin/settings", token, json={"registration_mode": "open"})
    other = api.register("user@example.com")["access_token"]
    refused = _test(api, other)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "admin_only"
    for body in ({"to": "not an address"}, {}, {"to": "a@example.com", "cc": "b@example.com"}):
        response = api.call("POST", "/api/admin/smtp/test", token, json=body)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["code"] == "validation_error" and error["details"][0]["loc"] in (["to"], ["cc"])


def test_a_few_a_minute(api: Api, owner: dict[str, Any]) -> None:
    token = owner["access_token"]
    _smtp(api, token, host="127.0.0.1", port=free_port(), security="none")
    for _ in range(5):
        assert _test(api, token).status_code == 200
    limited = _test(api, token)
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
