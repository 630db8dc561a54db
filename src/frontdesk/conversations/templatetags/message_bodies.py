"""A message's body as the thread shows it: inline images in place, the other files listed.

Email puts an inline image (a pasted screenshot, a logo) in the mail as a part
with a Content-ID that the HTML names as `cid:<id>`. Like Help Scout and Zendesk,
the thread shows such an image where the HTML puts it, through the same
access-checked download view as every attachment, and leaves it out of the
attachment list below the message, so it is not shown twice. A file whose
Content-ID the shown HTML does not name (an image only in the quoted part, a
part that merely had a Content-ID) is listed like any other attachment.

    {% message_body message "api-v1:download_attachment" as body %}
    {{ body.html }} ... {% for attachment in body.attachments %}

It reads `message.attachments.all()`, which the thread selectors prefetch: no
query per message.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from frontdesk.conversations.models import Attachment, Message
from frontdesk.core.html import link_cid_images

register = template.Library()


@dataclass(frozen=True)
class MessageBody:
    html: SafeString  # empty when the message has no HTML (show its text)
    attachments: list[Attachment]  # the files the body does not show


@register.simple_tag
def message_body(message: Message, download_url_name: str) -> MessageBody:
    """The body's HTML with cid: images pointed at `download_url_name` (takes the id)."""
    attachments = list(message.attachments.all())
    if not message.html:
        return MessageBody(html=mark_safe(""), attachments=attachments)  # noqa: S308 - empty
    images = _images_by_content_id(attachments)
    urls = {cid: reverse(download_url_name, args=[a.pk]) for cid, a in images.items()}
    # message.html was sanitised by the services on the way in; the rewrite sanitises again.
    html, shown = link_cid_images(message.html, urls)
    listed = [a for a in attachments if not (a.content_id in shown and images[a.content_id] == a)]
    return MessageBody(html=mark_safe(html), attachments=listed)  # noqa: S308


def _images_by_content_id(attachments: list[Attachment]) -> dict[str, Attachment]:
    """Images only: a cid: URL naming another kind of file stays a (listed) download."""
    images: dict[str, Attachment] = {}
    for attachment in attachments:
        if attachment.content_id and attachment.content_type.startswith("image/"):
            images.setdefault(attachment.content_id, attachment)
    return images
