"""Flask extension objects (bound in create_app) and the per-app state Spendwatch keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from backend.config import Settings
from backend.db import Database
from backend.services.login_throttle import client_key

if TYPE_CHECKING:
    from backend.services.statement_parser import StatementParser

# Unbound extension objects, the usual Flask pattern: they hold no app or connection until init_app().
jwt = JWTManager()


def rate_limit_key() -> str:
    """Rate limits count per client: an IPv4 address, or an IPv6 /64 (one host holds a whole /64 and could
    otherwise rotate through it for fresh budgets)."""
    return client_key(get_remote_address())


limiter = Limiter(key_func=rate_limit_key, default_limits=[], headers_enabled=True)


@dataclass
class AppState:
    settings: Settings
    db: Database
    statements: StatementParser | None = None  # the bounded pool statement files are parsed in
    metrics: Any = None


STATE_KEY = "spendwatch"


def get_state(app: Flask) -> AppState:
    state: AppState = app.extensions[STATE_KEY]
    return state
