"""The demo's service setup: office hours, an SLA policy, routing rules, a macro and a canned
reply, so a fresh `make run` shows the engines at work and gives admins an example to edit.

Made through the same services as the Manage pages, as the trusted system (`by=None`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time

from frontdesk.accounts.models import Team
from frontdesk.automation.models import CannedReply, Macro
from frontdesk.automation.services import create_canned_reply, create_macro
from frontdesk.conversations.models import Priority, Status
from frontdesk.core.models import Via
from frontdesk.routing.models import RoutingRule
from frontdesk.routing.services import create_rule
from frontdesk.sla.models import BusinessCalendar, SlaPolicy
from frontdesk.sla.services import create_calendar, create_policy

OFFICE_HOURS = ((time(8), time(18)),)
# Minutes per priority: first response, next response, resolution (business time).
TARGETS = {
    Priority.URGENT: (60, 120, 8 * 60),
    Priority.HIGH: (2 * 60, 4 * 60, 2 * 10 * 60),
    Priority.NORMAL: (4 * 60, 8 * 60, 3 * 10 * 60),
    Priority.LOW: (8 * 60, 2 * 10 * 60, 5 * 10 * 60),
}
ROUTING = (
    ("Invoices and payments to Billing", "Billing", ("invoice", "faktura", "payment", "platba")),
    ("Returns and refunds to Returns", "Returns", ("refund", "return", "zwrot", "vrácení")),
    ("Outages to Technical", "Technical", ("outage", "error", "awaria", "chyba")),
)
CANNED_NAME = "Ask for the order number"
MACRO_NAME = "Ask for the order number and wait"
ASK_FOR_ORDER = {
    "en": "Hello {{ customer.first_name }},\n\nthank you for writing to us. Could you send us "
    "your order number so we can look into it?\n\n{{ agent.name }}",
    "pl": "Dzień dobry {{ customer.first_name }},\n\ndziękujemy za wiadomość. Prosimy o podanie "
    "numeru zamówienia, abyśmy mogli to sprawdzić.\n\n{{ agent.name }}",
    "cs": "Dobrý den {{ customer.first_name }},\n\nděkujeme za zprávu. Pošlete nám prosím číslo "
    "objednávky, abychom to mohli prověřit.\n\n{{ agent.name }}",
}


def create_service_setup(teams: Mapping[str, Team]) -> dict[str, int]:
    """Office hours (the default calendar), one SLA policy for all, routing by keywords,
    a canned reply in three languages and a macro that asks for the order number.

    What an admin set up already (a default calendar, any SLA policy or routing rule, a
    canned reply or macro of the same name) is left alone, and the demo adds nothing there.
    """
    made = {"sla_policies": 0, "routing_rules": 0, "macros": 0, "canned_replies": 0}
    if not SlaPolicy.objects.exists():
        calendar = BusinessCalendar.objects.filter(is_default=True).first()
        if calendar is None:
            calendar = create_calendar(
                by=None, name="Office hours", time_zone="Europe/Warsaw",
                weekly={day: OFFICE_HOURS for day in range(5)}, holiday_country="PL",
                is_default=True, via=Via.SYSTEM,
            )  # fmt: skip
        create_policy(
            by=None, name="Standard", calendar=calendar, via=Via.SYSTEM,
            targets=[
                {"priority": int(priority), "first_response_minutes": first,
                 "next_response_minutes": following, "resolution_minutes": resolution}
                for priority, (first, following, resolution) in TARGETS.items()
            ],
        )  # fmt: skip
        made["sla_policies"] = 1
    if not RoutingRule.objects.exists():
        for name, team, keywords in ROUTING:
            create_rule(
                by=None, name=name, team=teams[team], keywords=list(keywords), via=Via.SYSTEM
            )
        made["routing_rules"] = len(ROUTING)
    if not CannedReply.objects.filter(name=CANNED_NAME).exists():
        create_canned_reply(by=None, name=CANNED_NAME, texts=ASK_FOR_ORDER, via=Via.SYSTEM)
        made["canned_replies"] = 1
    if not Macro.objects.filter(name=MACRO_NAME).exists():
        create_macro(
            by=None, name=MACRO_NAME, text=ASK_FOR_ORDER["en"],
            actions=[{"type": "set_status", "value": Status.PENDING},
                     {"type": "add_tags", "value": ["needs-order-number"]}],
            via=Via.SYSTEM,
        )  # fmt: skip
        made["macros"] = 1
    return made
