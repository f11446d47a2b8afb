"""The /api/v1 API: one NinjaAPI, each app contributes a router from its own ``api.py``."""

from __future__ import annotations

from ninja import NinjaAPI

from relaydesk.accounts.api import router as users_router
from relaydesk.api.auth import SessionAuth, TokenAuth
from relaydesk.api.errors import install_error_handlers
from relaydesk.customers.api import router as customers_router
from relaydesk.tickets.api import router as tickets_router

DESCRIPTION = """
The Relaydesk REST API. Authenticate with a personal API token
(`Authorization: Bearer rd_…`, created under your profile) or, from the browser,
with your signed-in session (send the `X-CSRFToken` header on writes).

Every error has the same shape:
`{"error": {"code": "…", "message": "…", "fields": [{"field": "…", "message": "…"}]}}`.
Lists page by cursor: pass the `next_cursor` of one page as `cursor` to get the next.
"""

api = NinjaAPI(
    title="Relaydesk API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    # A token first: a request carrying one is judged by it alone (see TokenAuth).
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)
# Request bodies are always declared as ``payload``; errors name the fields inside it.
install_error_handlers(api, body_params={"payload"})
api.add_router("", tickets_router)
api.add_router("", customers_router)
api.add_router("", users_router)
