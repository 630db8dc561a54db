# Running per-agent counts of new and open conversations by channel, and the round-robin
# pointers, on the load row assignment locks anyway, so the decision reads a row per agent
# instead of counting the team's conversations; a settings stamp so each process can tell
# with one small read whether its kept rules, team settings and capacities are current
# (ADR 0008).

import secrets
from datetime import UTC

import django.utils.timezone
from django.db import migrations, models

WORKING_STATUSES = ("new", "open")


def count_existing_loads(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Start the counts from the conversations as they are; the reconcile job keeps them so."""
    Conversation = apps.get_model("conversations", "Conversation")
    AgentLoad = apps.get_model("routing", "AgentLoad")
    SettingsVersion = apps.get_model("routing", "SettingsVersion")
    SettingsVersion.objects.update_or_create(pk=1, defaults={"stamp": secrets.token_hex(16)})
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Conversation.objects.filter(status__in=WORKING_STATUSES, assignee__isnull=False)
        .values_list("assignee_id", "channel")
        .annotate(n=models.Count("id"))
        .order_by()
    )
    for user_id, channel, n in rows:
        counts.setdefault(user_id, {})[channel] = n
    for user_id, by_channel in counts.items():
        AgentLoad.objects.update_or_create(
            user_id=user_id,
            defaults={"open_counts": by_channel, "open_total": sum(by_channel.values())},
        )


def move_team_turns(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Each TeamTurn row becomes an entry of its agent's AgentLoad.team_turns."""
    TeamTurn = apps.get_model("routing", "TeamTurn")
    AgentLoad = apps.get_model("routing", "AgentLoad")
    turns: dict[int, dict[str, str]] = {}
    for user_id, team_id, at in TeamTurn.objects.values_list(
        "user_id", "team_id", "last_assigned_at"
    ):
        turns.setdefault(user_id, {})[str(team_id)] = at.astimezone(UTC).isoformat(
            timespec="microseconds"
        )
    for user_id, by_team in turns.items():
        AgentLoad.objects.update_or_create(user_id=user_id, defaults={"team_turns": by_team})


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SettingsVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("stamp", models.CharField(max_length=32)),
                ("changed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name="agentload",
            name="checked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="agentload",
            name="open_counts",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="agentload",
            name="open_total",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="agentload",
            name="team_turns",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(count_existing_loads, migrations.RunPython.noop),
        migrations.RunPython(move_team_turns, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="TeamTurn",
        ),
    ]
