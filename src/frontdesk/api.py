"""Mounts every app's API router under /api/v1.

Authentication is declared once here, for every route: a bearer API token
first, then Django's session login (with CSRF on unsafe methods).
"""

from __future__ import annotations

from frontdesk.accounts.api import router as accounts_router
from frontdesk.accounts.services import authenticate_token
from frontdesk.automation.api import router as automation_router
from frontdesk.conversations.api import router as conversations_router
from frontdesk.core.api_support import BearerTokenAuth, ProblemAPI, SessionCsrfAuth
from frontdesk.customers.api import router as customers_router
from frontdesk.routing.api import router as routing_router
from frontdesk.sla.api import router as sla_router

DESCRIPTION = """\
The Frontdesk REST API.

Authenticate with `Authorization: Bearer <token>` (create one with
`frontdesk token create --user EMAIL`) or with a signed-in browser session,
which must send the `csrftoken` cookie's value in `X-CSRFToken` on unsafe methods.

Every error is an RFC 9457 `application/problem+json` document; `field` names
the offending input field when there is one. Lists are pages of
`{"items": [...], "next_cursor": ...}`: pass `cursor=<next_cursor>` for the
next page, until it is null.
"""

api = ProblemAPI(
    title="Frontdesk API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=[BearerTokenAuth(authenticate_token), SessionCsrfAuth()],
)
api.add_router("", conversations_router)
api.add_router("", customers_router)
api.add_router("", accounts_router)
api.add_router("", sla_router)
api.add_router("", routing_router)
api.add_router("", automation_router)
