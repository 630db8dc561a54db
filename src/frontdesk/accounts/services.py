"""The only writers of users, teams, memberships, presence and API tokens.

Each write checks the actor's permission, validates, writes the change and one
audit row in one transaction, and publishes a domain event on commit.
`by=None` is a trusted system actor (the CLI's init, the demo loader).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.events import (
    ApiTokenCreated,
    ApiTokenRevoked,
    PresenceChanged,
    TeamCreated,
    TeamMemberAdded,
    TeamMemberRemoved,
    UserCreated,
)
from frontdesk.accounts.models import ApiToken, Membership, Presence, Role, Team, User
from frontdesk.accounts.selectors import forget_team_ids, is_staff_member, team_ids_for
from frontdesk.core.audit import record_event
from frontdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via

# Tokens read fd_<prefix>_<secret>; the prefix is stored to tell tokens apart.
_SCHEME = "fd"
# Anything longer than a real token is rejected before hashing it.
MAX_TOKEN_LENGTH = 128
MAX_TOKEN_DAYS = 3650
# A busy integration must not turn every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
# The username mirrors the email, and AbstractUser caps usernames here.
_MAX_USER_EMAIL = 150


# --- shared validation ----------------------------------------------------------------------


def normalize_language(value: str, *, field: str = "language") -> str:
    """A BCP 47-style tag in lower case (`pt-br`), or "" for none."""
    tag = value.strip().replace("_", "-").lower()
    if tag and not _LANGUAGE_RE.fullmatch(tag):
        raise InvalidInput(
            _("%(value)s is not a language code such as en or pt-br.") % {"value": value},
            field=field,
        )
    return tag


def normalize_languages(values: Sequence[str], *, field: str = "languages") -> list[str]:
    if isinstance(values, str):
        raise InvalidInput(_("Give languages as a list of codes."), field=field)
    result: list[str] = []
    for value in values:
        tag = normalize_language(value, field=field)
        if tag and tag not in result:
            result.append(tag)
    return result


def _clean_text(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInput(_("This field is required."), field=field)
    if len(text) > max_length:
        raise InvalidInput(
            _("At most %(count)d characters, please.") % {"count": max_length}, field=field
        )
    return text


def _require_admin(by: User | None, message: str) -> None:
    if by is None:
        return
    if not (by.is_active and by.is_admin):
        raise PermissionDenied(message)


def _require_staff_user(user: User, *, field: str) -> None:
    if user.pk is None or user.is_customer or not user.is_active:
        raise InvalidInput(
            _("%(user)s is not an active staff member.") % {"user": user.email}, field=field
        )


# --- users ----------------------------------------------------------------------------------


def _normalize_user_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("%(value)s is not an email address.") % {"value": value}, field="email"
        ) from None
    if len(email) > _MAX_USER_EMAIL:
        raise InvalidInput(
            _("At most %(count)d characters, please.") % {"count": _MAX_USER_EMAIL},
            field="email",
        )
    return email


def _email_taken() -> InvalidInput:
    return InvalidInput(_("A user with this email already exists."), field="email")


def create_user(
    *,
    by: User | None,
    email: str,
    password: str | None = None,
    role: str = Role.AGENT,
    first_name: str = "",
    last_name: str = "",
    teams: Sequence[Team] = (),
    sees_all_teams: bool = False,
    languages: Sequence[str] = (),
    via: str = Via.SYSTEM,
) -> User:
    """Add a person. Without a password the account cannot sign in until one is set."""
    _require_admin(by, _("Only admins may add users."))
    normalized = _normalize_user_email(email)
    if role not in Role.values:
        raise InvalidInput(_("Unknown role: %(role)s.") % {"role": role}, field="role")
    first = _clean_text(first_name, field="first_name", max_length=150)
    last = _clean_text(last_name, field="last_name", max_length=150)
    langs = normalize_languages(languages)
    team_list = list({team.pk: team for team in teams}.values())
    if role == Role.CUSTOMER and (team_list or sees_all_teams):
        raise InvalidInput(_("Customers cannot belong to teams."), field="teams")

    user = User(
        email=normalized,
        username=normalized,
        role=role,
        first_name=first,
        last_name=last,
        sees_all_teams=sees_all_teams,
        languages=langs,
        # Only admins use the Django admin site; it checks is_staff.
        is_staff=role == Role.ADMIN,
    )
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), field="password") from None
        user.set_password(password)

    with transaction.atomic():
        if User.objects.filter(Q(email__iexact=normalized) | Q(username=normalized)).exists():
            raise _email_taken()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise _email_taken() from None
        Membership.objects.bulk_create([Membership(team=team, user=user) for team in team_list])
        team_ids = tuple(sorted(team.pk for team in team_list))
        record_event(
            user,
            action="user.created",
            actor=by,
            via=via,
            data={"email": normalized, "role": role, "team_ids": list(team_ids)},
        )
        publish(
            UserCreated(
                audience=Audience(user_ids=frozenset({user.pk}), team_ids=frozenset(team_ids)),
                user_id=user.pk,
                role=role,
                team_ids=team_ids,
            )
        )
    return User.objects.get(pk=user.pk)


# --- teams ----------------------------------------------------------------------------------


def create_team(
    *,
    by: User | None,
    name: str,
    lead: User | None = None,
    members: Sequence[User] = (),
    via: str = Via.SYSTEM,
) -> Team:
    """Add a department. The lead becomes a member, so they see the team's work."""
    _require_admin(by, _("Only admins may add teams."))
    clean_name = _clean_text(name, field="name", max_length=100, required=True)
    if lead is not None:
        _require_staff_user(lead, field="lead")
    member_list = list({user.pk: user for user in members}.values())
    for member in member_list:
        _require_staff_user(member, field="members")
    if lead is not None and lead.pk not in {member.pk for member in member_list}:
        member_list.append(lead)

    with transaction.atomic():
        if Team.objects.filter(name__iexact=clean_name).exists():
            raise InvalidInput(_("A team with this name already exists."), field="name")
        try:
            with transaction.atomic():
                team = Team.objects.create(name=clean_name, lead=lead)
        except IntegrityError:
            raise InvalidInput(_("A team with this name already exists."), field="name") from None
        Membership.objects.bulk_create([Membership(team=team, user=user) for user in member_list])
        member_ids = tuple(sorted(user.pk for user in member_list))
        lead_id = lead.pk if lead is not None else None
        record_event(
            team,
            action="team.created",
            actor=by,
            via=via,
            data={"name": clean_name, "lead_id": lead_id, "member_ids": list(member_ids)},
        )
        publish(
            TeamCreated(
                audience=Audience(team_ids=frozenset({team.pk}), user_ids=frozenset(member_ids)),
                team_id=team.pk,
                lead_id=lead_id,
                member_ids=member_ids,
            )
        )
    return Team.objects.select_related("lead").get(pk=team.pk)


def add_team_member(
    team: Team, *, by: User | None, user: User, via: str = Via.SYSTEM
) -> Membership:
    _require_admin(by, _("Only admins may change who is in a team."))
    _require_staff_user(user, field="user")
    already = _("%(user)s is already in %(team)s.") % {"user": user.email, "team": team.name}
    with transaction.atomic():
        if Membership.objects.filter(team_id=team.pk, user_id=user.pk).exists():
            raise Conflict(already, field="user")
        try:
            with transaction.atomic():
                membership = Membership.objects.create(team=team, user=user)
            forget_team_ids(user)
        except IntegrityError:
            raise Conflict(already, field="user") from None
        record_event(team, action="team.member_added", actor=by, via=via, data={"user_id": user.pk})
        publish(
            TeamMemberAdded(
                audience=Audience(team_ids=frozenset({team.pk}), user_ids=frozenset({user.pk})),
                team_id=team.pk,
                user_id=user.pk,
            )
        )
    return Membership.objects.select_related("team", "user").get(pk=membership.pk)


def remove_team_member(team: Team, *, by: User | None, user: User, via: str = Via.SYSTEM) -> None:
    """Take `user` out of `team`; a lead stays lead until someone else is named."""
    _require_admin(by, _("Only admins may change who is in a team."))
    with transaction.atomic():
        deleted, _rows = Membership.objects.filter(team_id=team.pk, user_id=user.pk).delete()
        forget_team_ids(user)
        if not deleted:
            raise Conflict(
                _("%(user)s is not in %(team)s.") % {"user": user.email, "team": team.name},
                field="user",
            )
        record_event(
            team, action="team.member_removed", actor=by, via=via, data={"user_id": user.pk}
        )
        publish(
            TeamMemberRemoved(
                audience=Audience(team_ids=frozenset({team.pk}), user_ids=frozenset({user.pk})),
                team_id=team.pk,
                user_id=user.pk,
            )
        )


# --- presence -------------------------------------------------------------------------------


def set_presence(user: User, *, by: User | None, presence: str, via: str = Via.SYSTEM) -> User:
    """Set whether `user` is online, away or offline; setting the same value writes nothing.

    People set their own presence; supervisors and admins may set anyone's
    (an agent who left without signing out).
    """
    if by is not None and by.pk != user.pk:
        if not (by.is_active and (by.is_admin or by.is_supervisor)):
            raise PermissionDenied(_("You may only change your own presence."))
    if presence not in Presence.values:
        raise InvalidInput(
            _("Unknown presence: %(value)s.") % {"value": presence}, field="presence"
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        previous = locked.presence
        if previous == presence:
            return locked
        locked.presence = presence
        locked.save(update_fields=["presence"])
        record_event(
            locked,
            action="user.presence_changed",
            actor=by,
            via=via,
            data={"from": previous, "to": presence},
        )
        publish(
            PresenceChanged(
                audience=Audience(user_ids=frozenset({locked.pk}), team_ids=team_ids_for(locked)),
                user_id=locked.pk,
                presence=presence,
                previous=previous,
            )
        )
    return User.objects.get(pk=user.pk)


# --- API tokens -----------------------------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _token_audience(token_user_id: int, by: User | None) -> Audience:
    user_ids = {token_user_id}
    if by is not None:
        user_ids.add(by.pk)
    return Audience(user_ids=frozenset(user_ids))


def create_api_token(
    user: User,
    *,
    by: User | None,
    name: str = "",
    expires_days: int | None = None,
    via: str = Via.SYSTEM,
) -> tuple[ApiToken, str]:
    """Issue a token for `user`; the plaintext is returned here once and never stored.

    Staff create their own tokens; admins may create them for any staff member.
    """
    if by is not None and not (by.is_active and (by.is_admin or by.pk == user.pk)):
        raise PermissionDenied(_("You may only create API tokens for yourself."))
    if by is not None and by.is_customer:
        raise PermissionDenied(_("Customers cannot create API tokens."))
    _require_staff_user(user, field="user")
    clean_name = _clean_text(name, field="name", max_length=100)
    expires_at = None
    if expires_days is not None:
        if (
            isinstance(expires_days, bool)
            or not isinstance(expires_days, int)
            or not 1 <= expires_days <= MAX_TOKEN_DAYS
        ):
            raise InvalidInput(
                _("A token expires after 1 to %(max)d days.") % {"max": MAX_TOKEN_DAYS},
                field="expires_days",
            )
        expires_at = timezone.now() + timedelta(days=expires_days)

    prefix = secrets.token_hex(4)
    raw = f"{_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=clean_name, prefix=prefix, digest=_digest(raw), expires_at=expires_at
        )
        record_event(
            token,
            action="api_token.created",
            actor=by,
            via=via,
            data={
                "user_id": user.pk,
                "prefix": prefix,
                "name": clean_name,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
        publish(
            ApiTokenCreated(
                audience=_token_audience(user.pk, by),
                token_id=token.pk,
                user_id=user.pk,
                prefix=prefix,
            )
        )
    return ApiToken.objects.select_related("user").get(pk=token.pk), raw


def revoke_api_token(token: ApiToken, *, by: User | None, via: str = Via.SYSTEM) -> ApiToken:
    """Stop a token working at once; revoking a revoked token changes nothing."""
    if by is not None and not (by.is_active and (by.is_admin or by.pk == token.user_id)):
        raise PermissionDenied(_("You may only revoke your own API tokens."))
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            locked,
            action="api_token.revoked",
            actor=by,
            via=via,
            data={"user_id": locked.user_id, "prefix": locked.prefix},
        )
        publish(
            ApiTokenRevoked(
                audience=_token_audience(locked.user_id, by),
                token_id=locked.pk,
                user_id=locked.user_id,
                prefix=locked.prefix,
            )
        )
    return ApiToken.objects.select_related("user").get(pk=token.pk)


def authenticate_token(raw: str) -> User | None:
    """The active staff user behind a bearer token, or None.

    The look-up is by SHA-256 digest, so no stored secret is ever compared
    byte by byte with attacker input.
    """
    if not isinstance(raw, str) or len(raw) > MAX_TOKEN_LENGTH or not raw.startswith(f"{_SCHEME}_"):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw)).first()
    if token is None:
        return None
    now = timezone.now()
    if not token.is_usable(now) or not is_staff_member(token.user):
        return None
    # A token used many times a minute is written at most once a minute: skipped
    # here when the row just read is fresh, conditional in SQL against races.
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is None or token.last_used_at <= stale:
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
        ).update(last_used_at=now)
    return token.user
