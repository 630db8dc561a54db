from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "frontdesk.sla"
    label = "sla"
    verbose_name = _("Business hours and SLAs")

    def ready(self) -> None:
        from frontdesk.sla import reactions

        reactions.register()
