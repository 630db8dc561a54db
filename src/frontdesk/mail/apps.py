from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "frontdesk.mail"
    label = "mail"
    verbose_name = _("Email channel")

    def ready(self) -> None:
        from frontdesk.mail import reactions

        reactions.register()
