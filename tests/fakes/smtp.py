"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and can be stopped and started again
on the same port, or told to answer RCPT with a 4xx/5xx code."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    server: FakeSmtp

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.server.reject_with:
            return self.server.reject_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.server.lock:
            self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@dataclass
class FakeSmtp:
    """`start()` / `stop()` any number of times; `messages` survives restarts."""

    port: int = field(default_factory=free_port)
    messages: list[Received] = field(default_factory=list)
    reject_with: str | None = None  # e.g. "450 try later" or "550 no such user"
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None
