"""Email channel: a multipart text + HTML message sent with smtplib, or written to the mail outbox folder."""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

from integrations.channels.base import Message, SendContext, SendResult, SmtpConfig, Target, failure
from integrations.channels.render import render

log = logging.getLogger(__name__)

DEFAULT_FROM = "spendwatch@localhost"
_outbox_announced: set[Path] = set()  # the log says once per folder and process where mail goes


def build_email(message: Message, *, recipients: list[str], from_address: str) -> EmailMessage:
    """The message: subject, plain text and HTML alternatives, a stable Message-ID and List-Unsubscribe."""
    rendered = render(message)
    mail = EmailMessage()
    name, address = parseaddr(from_address or DEFAULT_FROM)
    mail["From"] = formataddr((name or "Spendwatch", address or DEFAULT_FROM))
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(message.created_at)
    # The same id on every retry lets mail servers and clients drop a duplicate.
    domain = (address or DEFAULT_FROM).rpartition("@")[2] or "localhost"
    mail["Message-ID"] = f"<{message.message_id}@{domain}>"
    mail["X-Spendwatch-Event"] = message.event_type
    links = message.payload.get("links") if isinstance(message.payload.get("links"), dict) else {}
    mute = links.get("mute") if links else None
    if isinstance(mute, str) and mute.startswith(("http://", "https://")):
        mail["List-Unsubscribe"] = f"<{mute}>"
        # RFC 8058 one-click: the mail client POSTs to the link (which mutes), never GETs it to unsubscribe.
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    return mail


def _write_outbox(mail: EmailMessage, message: Message, folder: Path) -> SendResult:
    folder.mkdir(parents=True, exist_ok=True)
    if folder not in _outbox_announced:
        _outbox_announced.add(folder)
        log.warning("SMTP is not configured: emails are written to %s instead of being sent", folder)
    target = folder / f"{message.message_id}.eml"
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(bytes(mail))
    temporary.replace(target)  # whole files only: a reader never sees half a message
    return SendResult(ok=True, note=f"written to the mail outbox as {target.name}")


def _smtp_code_failure(code: int, what: str) -> SendResult:
    # 4xx: try again later; 5xx: the server will never accept it.
    return failure(f"the mail server refused {what} (SMTP {code})", code=code, permanent=code >= 500)


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in words (never the exception's text: it could quote the server's greeting)."""
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or type(exc).__name__}"  # e.g. WRONG_VERSION_NUMBER, CERTIFICATE_VERIFY_FAILED
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return type(exc).__name__


def _deliver_smtp(mail: EmailMessage, recipients: list[str], smtp: SmtpConfig, timeout: float) -> SendResult:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        try:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.username:
                try:
                    client.login(smtp.username, smtp.password)
                except smtplib.SMTPNotSupportedError:  # not the STARTTLS case below: no AUTH offered
                    return failure(
                        f"the mail server {smtp.host} offers no SMTP login (AUTH) here: clear the username, or "
                        "use STARTTLS or TLS (many servers offer it only then)",
                        permanent=True,
                    )
            refused = client.send_message(mail, to_addrs=recipients)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return _smtp_code_failure(min(codes) if codes else 550, "every recipient")
    except smtplib.SMTPAuthenticationError as exc:
        return _smtp_code_failure(exc.smtp_code, "the SMTP login")
    except smtplib.SMTPConnectError as exc:
        return failure(f"could not connect to the mail server {smtp.host}:{smtp.port} (SMTP {exc.smtp_code})")
    except smtplib.SMTPResponseException as exc:
        return _smtp_code_failure(exc.smtp_code, "the message")
    except smtplib.SMTPNotSupportedError:
        return failure(f"the mail server {smtp.host} does not support STARTTLS", permanent=True)
    except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        return failure(f"could not reach the mail server {smtp.host}:{smtp.port} ({_reason(exc)})")
    if refused:
        return SendResult(ok=True, response_code=250, note=f"{len(refused)} recipient(s) refused")
    return SendResult(ok=True, response_code=250)


def send(message: Message, target: Target, context: SendContext) -> SendResult:
    """Send MESSAGE to the channel's recipients (or write it to the outbox folder when SMTP is not set up)."""
    recipients = [str(r) for r in target.config.get("recipients") or []]
    if not recipients:
        return failure("the channel has no recipients", permanent=True)
    mail = build_email(message, recipients=recipients, from_address=context.smtp.from_address)
    if not context.smtp.host:
        return _write_outbox(mail, message, context.mail_outbox)
    return _deliver_smtp(mail, recipients, context.smtp, context.timeout_seconds)
