from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "frontdesk.automation"
    label = "automation"
    verbose_name = _("Automations")

    def ready(self) -> None:
        from frontdesk.automation import reactions

        reactions.register()
