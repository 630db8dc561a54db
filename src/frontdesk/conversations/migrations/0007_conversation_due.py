# The SLA summary moves off the conversation row into a narrow table of its own, and the
# single-column indexes that lead a composite one go (ADR 0009).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COPY = """
INSERT INTO conversations_conversationdue (conversation_id, due_at, warning_at, breached, paused)
SELECT id, sla_due_at, sla_warning_at, sla_breached, sla_paused
FROM conversations_conversation
WHERE sla_due_at IS NOT NULL OR sla_warning_at IS NOT NULL OR sla_breached OR sla_paused
"""

COPY_BACK = """
UPDATE conversations_conversation
SET sla_due_at = d.due_at, sla_warning_at = d.warning_at,
    sla_breached = d.breached, sla_paused = d.paused
FROM conversations_conversationdue AS d
WHERE d.conversation_id = conversations_conversation.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_notify_new_in_team_mention"),
        ("conversations", "0006_sla_due"),
        ("customers", "0002_customer_merged_into"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConversationDue",
            fields=[
                (
                    "conversation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="sla_due",
                        serialize=False,
                        to="conversations.conversation",
                    ),
                ),
                ("due_at", models.DateTimeField(blank=True, null=True, verbose_name="SLA due")),
                ("warning_at", models.DateTimeField(blank=True, null=True)),
                ("breached", models.BooleanField(default=False)),
                ("paused", models.BooleanField(default=False)),
            ],
        ),
        migrations.RunSQL(COPY, COPY_BACK),
        migrations.AddIndex(
            model_name="conversationdue",
            index=models.Index(
                condition=models.Q(("due_at__isnull", False)),
                fields=["due_at", "conversation"],
                name="convdue_due",
            ),
        ),
        migrations.RemoveIndex(model_name="conversation", name="conv_active_due"),
        migrations.RemoveIndex(model_name="conversation", name="conv_active_team_due"),
        migrations.RemoveField(model_name="conversation", name="sla_breached"),
        migrations.RemoveField(model_name="conversation", name="sla_due_at"),
        migrations.RemoveField(model_name="conversation", name="sla_paused"),
        migrations.RemoveField(model_name="conversation", name="sla_warning_at"),
        migrations.AlterField(
            model_name="conversation",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assigned_conversations",
                to=settings.AUTH_USER_MODEL,
                verbose_name="assignee",
            ),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="company",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="conversations",
                to="customers.company",
                verbose_name="company",
            ),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="conversations",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="conversations",
                to="accounts.team",
                verbose_name="team",
            ),
        ),
    ]
