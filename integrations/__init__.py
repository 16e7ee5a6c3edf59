"""Outbound integrations: providers (where spend comes from) and channels (where alerts go).

Nothing here imports from `backend` or `jobs`; records cross into the backend as plain typed objects.
"""
