"""Mounts every app's API router under /api/v1."""

from ninja import NinjaAPI

api = NinjaAPI(title="Frontdesk API", version="1", urls_namespace="api-v1")
