"""Every foreign key of a conversation leads some index, so deleting a customer, company,
team or user (and the database's own key checks) finds its conversations without a scan,
though four of them have no single-column index of their own (ADR 0009)."""

from __future__ import annotations

import pytest
from django.db import connection

from frontdesk.conversations.models import Conversation


@pytest.mark.django_db
def test_every_conversation_foreign_key_leads_an_index() -> None:
    table = Conversation._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    leading = {
        info["columns"][0]
        for info in constraints.values()
        if (info["index"] or info["unique"] or info["primary_key"]) and info["columns"]
    }
    single = {
        info["columns"][0]
        for info in constraints.values()
        if info["index"] and len(info["columns"]) == 1
    }
    keys = {field.column for field in Conversation._meta.concrete_fields if field.is_relation}

    assert keys == {
        "customer_id", "company_id", "team_id", "assignee_id", "owner_id", "merged_into_id"
    }  # fmt: skip
    assert keys <= leading
    # The four led by a composite index carry no single-column one: one index less to write.
    assert not single & {"customer_id", "company_id", "team_id", "assignee_id"}
