"""Who may see and change a conversation.

The same rules exist twice on purpose: as a Q object for lists (scope applied
in SQL) and as predicates on one loaded conversation (for services). Tests
check that the two agree.
"""

from __future__ import annotations

from django.db.models import Q

from frontdesk.accounts.models import User
from frontdesk.accounts.selectors import team_ids_for
from frontdesk.conversations.models import Conversation


def sees_everything(user: User) -> bool:
    return user.is_active and (user.is_admin or user.sees_all_teams)


def visible_scope(user: User) -> Q:
    """Conversations `user` may see, as a filter.

    Staff see their teams' conversations and those they are assigned or own; a
    conversation without a team is visible only to admins and the see-all
    grant. Customers see their own, and their company's where it allows.
    """
    if not user.is_active:
        return Q(pk__in=[])
    if sees_everything(user):
        return Q()
    if user.is_customer:
        customer = getattr(user, "customer", None)
        if customer is None:
            return Q(pk__in=[])
        scope = Q(customer_id=customer.pk)
        if customer.company_id is not None and customer.company.members_see_all:
            scope |= Q(company_id=customer.company_id)
        return scope
    return Q(team_id__in=team_ids_for(user)) | Q(assignee_id=user.pk) | Q(owner_id=user.pk)


def can_see(user: User, conversation: Conversation) -> bool:
    if not user.is_active:
        return False
    if sees_everything(user):
        return True
    if user.is_customer:
        customer = getattr(user, "customer", None)
        if customer is None:
            return False
        if conversation.customer_id == customer.pk:
            return True
        return bool(
            customer.company_id is not None
            and conversation.company_id == customer.company_id
            and customer.company.members_see_all
        )
    return user.pk in (
        conversation.assignee_id,
        conversation.owner_id,
    ) or conversation.team_id in team_ids_for(user)


def can_work(user: User, conversation: Conversation) -> bool:
    """May reply, note, tag, change status and fields: staff who can see it."""
    return user.is_agent_staff and can_see(user, conversation)


def can_reassign(user: User, conversation: Conversation) -> bool:
    """Take away a conversation someone else holds: supervisors of the team, admins."""
    if sees_everything(user) and (user.is_admin or user.is_supervisor):
        return True
    return user.is_supervisor and conversation.team_id in team_ids_for(user)


def can_merge_customers(user: User) -> bool:
    """Merge customers: it rewrites whose conversations are whose across every team."""
    return user.is_active and (user.is_admin or user.is_supervisor)
