"""Spendwatch backend: the Flask API, its models, services and CLI. The app factory is backend.app.create_app."""
