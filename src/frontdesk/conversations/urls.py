"""URLs of the workspace pages that show conversations; each views module lists its own."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from frontdesk.conversations.views import conversation, customers, inbox, manage
from frontdesk.core.placeholders import placeholder

app_name = "conversations"

urlpatterns: list[URLPattern | URLResolver] = [
    *inbox.urls,
    *conversation.urls,
    *customers.urls,
    *manage.urls,
]

# Placeholders until their views land (each views module then defines the name itself).
_defined = {pattern.name for pattern in urlpatterns if isinstance(pattern, URLPattern)}
for _route, _name, _heading in [
    ("inbox/", "inbox", "Inbox"),
    ("inbox/rail/", "rail", "Rail"),
    ("conversations/new/", "new", "New conversation"),
]:
    if _name not in _defined:
        urlpatterns.append(path(_route, placeholder(_heading, "inbox"), name=_name))
