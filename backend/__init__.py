"""Spendwatch backend: the Flask API, its models, services and CLI."""

from backend.app import create_app

__all__ = ["create_app"]
