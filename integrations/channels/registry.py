"""The channel kinds and their senders; `send()` times every attempt and never raises."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from integrations.channels import email, webhook
from integrations.channels.base import Message, SendContext, SendResult, Target, failure

log = logging.getLogger(__name__)

Sender = Callable[[Message, Target, SendContext], SendResult]

SENDERS: dict[str, Sender] = {"email": email.send, "webhook": webhook.send}


def send(message: Message, target: Target, context: SendContext) -> SendResult:
    """Send MESSAGE through TARGET's channel kind; any unexpected error is a transient failure, not a crash."""
    started = time.perf_counter()
    sender = SENDERS.get(target.kind)
    if sender is None:
        result = failure(f"unknown channel kind {target.kind!r}", permanent=True)
    else:
        try:
            result = sender(message, target, context)
        except Exception as exc:  # one bad message must never stop the delivery job
            log.exception("channel %s: unexpected error sending %s", target.kind, message.message_id)
            result = failure(f"unexpected error ({type(exc).__name__})")
    duration_ms = int((time.perf_counter() - started) * 1000)
    return dataclasses.replace(result, duration_ms=duration_ms)
