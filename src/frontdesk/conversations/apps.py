from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "frontdesk.conversations"
    label = "conversations"
    verbose_name = "Conversations"
