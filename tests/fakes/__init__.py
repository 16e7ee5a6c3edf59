"""Local stand-ins for external systems, served over real sockets (see providers.py for the AI providers)."""
