from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "frontdesk.routing"
    label = "routing"
    verbose_name = _("Routing and assignment")

    def ready(self) -> None:
        from frontdesk.routing import reactions

        reactions.register()
