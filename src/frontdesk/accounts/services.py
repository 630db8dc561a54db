"""The only writers of users, teams, memberships, presence and API tokens.

Each write checks the actor's permission, validates, writes the change and one
audit row in one transaction, and publishes a domain event on commit.
`by=None` is a trusted system actor (the CLI's init, the demo loader).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from frontdesk.accounts.events import (
    ApiTokenCreated,
    ApiTokenRevoked,
    PresenceChanged,
    SignInLocked,
    TeamCreated,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamUpdated,
    UserActiveChanged,
    UserCreated,
    UserUpdated,
)
from frontdesk.accounts.models import (
    ApiToken,
    Membership,
    Presence,
    Role,
    SignInFailure,
    Skill,
    Team,
    User,
)
from frontdesk.accounts.permissions import require_admin
from frontdesk.accounts.selectors import forget_team_ids, is_staff_member, team_ids_for
from frontdesk.core.audit import record_event
from frontdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from frontdesk.core.events import Audience, publish
from frontdesk.core.models import Via
from frontdesk.core.validation import clean_text

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
    skills: Sequence[str] = (),
    active: bool = True,
    via: str = Via.SYSTEM,
) -> User:
    """Add a person. Without a password the account cannot sign in until one is set;
    `active=False` makes a login that waits for something else (the portal's sign-up
    waits for the address to be verified)."""
    require_admin(by, _("Only admins may add users."))
    normalized = _normalize_user_email(email)
    if role not in Role.values:
        raise InvalidInput(_("Unknown role: %(role)s.") % {"role": role}, field="role")
    first = clean_text(first_name, field="first_name", max_length=150)
    last = clean_text(last_name, field="last_name", max_length=150)
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
        is_active=active,
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
        data: dict[str, object] = {"email": normalized, "role": role, "team_ids": list(team_ids)}
        if skills:
            skill_list = _skills_named(skills)
            user.skills.set(skill_list)
            data["skills"] = sorted(skill.name for skill in skill_list)
        record_event(user, action="user.created", actor=by, via=via, data=data)
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
    email: str = "",
    via: str = Via.SYSTEM,
) -> Team:
    """Add a department. The lead becomes a member, so they see the team's work."""
    require_admin(by, _("Only admins may add teams."))
    clean_name = clean_text(name, field="name", max_length=100, required=True)
    clean_email = _normalize_team_email(email)
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
                team = Team.objects.create(name=clean_name, lead=lead, email=clean_email)
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
    require_admin(by, _("Only admins may change who is in a team."))
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
    require_admin(by, _("Only admins may change who is in a team."))
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
    clean_name = clean_text(name, field="name", max_length=100)
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


# --- editing people -------------------------------------------------------------------------

MAX_SIGNATURE = 2000
_MAX_SKILL = 100


@lru_cache(maxsize=1)
def available_time_zones() -> frozenset[str]:
    """The IANA zone names this system knows; read once, the scan is slow."""
    return frozenset(zoneinfo.available_timezones())


def _check_last_admin(user: User, *, field: str) -> None:
    """Refuse a change that would leave nobody able to manage Frontdesk."""
    others = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if user.role == Role.ADMIN and user.is_active and not others.exists():
        raise Conflict(_("%(user)s is the last active admin.") % {"user": user.email}, field=field)


def _skills_named(names: Sequence[str]) -> list[Skill]:
    if isinstance(names, str):
        raise InvalidInput(_("Give skills as a list of names."), field="skills")
    cleaned: list[str] = []
    for raw in names:
        name = " ".join(str(raw).split())
        if len(name) > _MAX_SKILL:
            raise InvalidInput(
                _("At most %(count)d characters, please.") % {"count": _MAX_SKILL}, field="skills"
            )
        if name and name.lower() not in {n.lower() for n in cleaned}:
            cleaned.append(name)
    skills: list[Skill] = []
    for name in cleaned:
        skill = Skill.objects.filter(name__iexact=name).first()
        if skill is None:
            skill, _created = Skill.objects.get_or_create(name=name)
        skills.append(skill)
    return skills


def _set_memberships(user: User, team_ids: set[int]) -> tuple[list[int], list[int]]:
    """Make `user` a member of exactly `team_ids`; returns (added, removed) team ids."""
    current = set(Membership.objects.filter(user_id=user.pk).values_list("team_id", flat=True))
    added = sorted(team_ids - current)
    removed = sorted(current - team_ids)
    if removed:
        Membership.objects.filter(user_id=user.pk, team_id__in=removed).delete()
    Membership.objects.bulk_create([Membership(team_id=pk, user=user) for pk in added])
    forget_team_ids(user)
    return added, removed


def _publish_membership_changes(
    user_id: int, added: Sequence[int], removed: Sequence[int], via: str
) -> None:
    for team_id in added:
        audience = Audience(team_ids=frozenset({team_id}), user_ids=frozenset({user_id}))
        publish(TeamMemberAdded(via=via, audience=audience, team_id=team_id, user_id=user_id))
    for team_id in removed:
        audience = Audience(team_ids=frozenset({team_id}), user_ids=frozenset({user_id}))
        publish(TeamMemberRemoved(via=via, audience=audience, team_id=team_id, user_id=user_id))


def update_user(
    user: User,
    *,
    by: User | None,
    first_name: str | None = None,
    last_name: str | None = None,
    role: str | None = None,
    teams: Sequence[Team] | None = None,
    skills: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    sees_all_teams: bool | None = None,
    via: str = Via.SYSTEM,
) -> User:
    """Change what an admin manages about a person; None leaves a value as it is.

    Staff stay staff and customers stay customers: a customer's account belongs
    to a customer record, so turning one into the other is refused.
    """
    require_admin(by, _("Only admins may change users."))
    values: dict[str, object] = {
        "first_name": _optional_text(first_name, field="first_name"),
        "last_name": _optional_text(last_name, field="last_name"),
        "role": role,
        "languages": None if languages is None else normalize_languages(languages),
        "sees_all_teams": sees_all_teams,
    }
    if role is not None and role not in Role.values:
        raise InvalidInput(_("Unknown role: %(role)s.") % {"role": role}, field="role")
    team_ids = None if teams is None else {team.pk for team in teams}

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_role_change(locked, role, has_teams=bool(team_ids or sees_all_teams))
        changed = _apply(locked, values)
        if "role" in changed:
            locked.is_staff = locked.role == Role.ADMIN or locked.is_superuser
            locked.save(update_fields=[*changed, "is_staff"])
        elif changed:
            locked.save(update_fields=list(changed))
        if skills is not None:
            skill_list = _skills_named(skills)
            before = sorted(locked.skills.values_list("name", flat=True))
            after = sorted(skill.name for skill in skill_list)
            if before != after:
                locked.skills.set(skill_list)
                changed["skills"] = after
        added, removed = ([], []) if team_ids is None else _set_memberships(locked, team_ids)
        forget_team_ids(user)
        if added or removed:
            changed["teams"] = {"added": added, "removed": removed}
        if not changed:
            return User.objects.get(pk=user.pk)
        record_event(locked, action="user.updated", actor=by, via=via, data=changed)
        publish(
            UserUpdated(
                via=via,
                audience=Audience(user_ids=frozenset({locked.pk}), team_ids=team_ids_for(locked)),
                user_id=locked.pk,
                fields=tuple(sorted(changed)),
            )
        )
        _publish_membership_changes(locked.pk, added, removed, via)
    return User.objects.get(pk=user.pk)


def _optional_text(value: str | None, *, field: str) -> str | None:
    return None if value is None else clean_text(value, field=field, max_length=150)


def _check_role_change(locked: User, role: str | None, *, has_teams: bool) -> None:
    if role is not None and role != locked.role:
        if (role == Role.CUSTOMER) != locked.is_customer:
            raise InvalidInput(
                _("Staff and customer accounts cannot be turned into each other."), field="role"
            )
        _check_last_admin(locked, field="role")
    if (role or locked.role) == Role.CUSTOMER and has_teams:
        raise InvalidInput(_("Customers cannot belong to teams."), field="teams")


def _apply(obj: models.Model, values: dict[str, object]) -> dict[str, object]:
    """Set the given (non-None) values that differ; returns what changed."""
    changed: dict[str, object] = {}
    for name, value in values.items():
        if value is not None and getattr(obj, name) != value:
            setattr(obj, name, value)
            changed[name] = value
    return changed


def set_user_active(user: User, *, by: User | None, active: bool, via: str = Via.SYSTEM) -> User:
    """Deactivate (never delete: their conversations and audit trail keep their name) or
    reactivate a person. A deactivated user cannot sign in or use API tokens."""
    require_admin(by, _("Only admins may deactivate users."))
    if not active and by is not None and by.pk == user.pk:
        raise Conflict(_("You cannot deactivate yourself."), field="active")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            return locked
        if not active:
            _check_last_admin(locked, field="active")
        locked.is_active = active
        fields = ["is_active"]
        if not active and locked.presence != Presence.OFFLINE:
            locked.presence = Presence.OFFLINE
            fields.append("presence")
        locked.save(update_fields=fields)
        record_event(
            locked,
            action="user.reactivated" if active else "user.deactivated",
            actor=by,
            via=via,
            data={"email": locked.email},
        )
        publish(
            UserActiveChanged(
                via=via,
                audience=Audience(user_ids=frozenset({locked.pk}), team_ids=team_ids_for(locked)),
                user_id=locked.pk,
                active=active,
            )
        )
    return User.objects.get(pk=user.pk)


def set_password_hash(
    user: User, *, by: User | None, password_hash: str, via: str = Via.SYSTEM
) -> User:
    """Give `user` a password already hashed elsewhere (the portal hashes it at sign-up
    and keeps it on the verification token until the address is proven)."""
    require_admin(by, _("Only admins may change users."))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.password = password_hash
        locked.save(update_fields=["password"])
        record_event(locked, action="user.password_set", actor=by, via=via)
    return User.objects.get(pk=user.pk)


def update_preferences(
    user: User,
    *,
    by: User | None,
    language: str | None = None,
    time_zone: str | None = None,
    signature: str | None = None,
    notify_on_assignment: bool | None = None,
    notify_on_customer_reply: bool | None = None,
    notify_on_new_in_team: bool | None = None,
    notify_on_mention: bool | None = None,
    via: str = Via.SYSTEM,
) -> User:
    """A person's own settings; None leaves a value as it is. Admins may change anyone's."""
    if by is not None and by.pk != user.pk and not (by.is_active and by.is_admin):
        raise PermissionDenied(_("You may only change your own settings."))
    if language is not None and language not in {"", *(code for code, _n in settings.LANGUAGES)}:
        raise InvalidInput(
            _("%(value)s is not a language Frontdesk speaks.") % {"value": language},
            field="language",
        )
    if time_zone is not None and time_zone not in available_time_zones():
        raise InvalidInput(
            _("%(value)s is not a time zone such as Europe/Prague.") % {"value": time_zone},
            field="time_zone",
        )
    clean_signature = (
        None
        if signature is None
        else clean_text(signature, field="signature", max_length=MAX_SIGNATURE)
    )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed = _apply(
            locked,
            {
                "language": language,
                "time_zone": time_zone,
                "signature": clean_signature,
                "notify_on_assignment": notify_on_assignment,
                "notify_on_customer_reply": notify_on_customer_reply,
                "notify_on_new_in_team": notify_on_new_in_team,
                "notify_on_mention": notify_on_mention,
            },
        )
        if not changed:
            return locked
        locked.save(update_fields=list(changed))
        # The signature's text is the person's own; the trail notes only that it changed.
        data = {k: (True if k == "signature" else v) for k, v in changed.items()}
        record_event(locked, action="user.preferences_changed", actor=by, via=via, data=data)
        publish(
            UserUpdated(
                via=via,
                audience=Audience(user_ids=frozenset({locked.pk})),
                user_id=locked.pk,
                fields=tuple(sorted(changed)),
            )
        )
    return User.objects.get(pk=user.pk)


# --- editing teams --------------------------------------------------------------------------


def _normalize_team_email(value: str) -> str:
    email = value.strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("%(value)s is not an email address.") % {"value": value}, field="email"
        ) from None
    return email


def update_team(
    team: Team,
    *,
    by: User | None,
    name: str | None = None,
    email: str | None = None,
    lead: User | None = None,
    clear_lead: bool = False,
    members: Sequence[User] | None = None,
    via: str = Via.SYSTEM,
) -> Team:
    """Rename a team, set its address and lead, or replace its members.

    The lead is always a member: naming one adds them, and a members list that
    leaves the lead out keeps them in.
    """
    require_admin(by, _("Only admins may change teams."))
    clean_name = (
        None if name is None else clean_text(name, field="name", max_length=100, required=True)
    )
    clean_email = None if email is None else _normalize_team_email(email)
    if lead is not None:
        _require_staff_user(lead, field="lead")
    member_list = None if members is None else list({u.pk: u for u in members}.values())
    for member in member_list or ():
        _require_staff_user(member, field="members")

    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        if clean_name is not None and clean_name != locked.name:
            taken = Team.objects.filter(name__iexact=clean_name).exclude(pk=locked.pk).exists()
            if taken:
                raise InvalidInput(_("A team with this name already exists."), field="name")
        new_lead_id = None if clear_lead else (lead.pk if lead is not None else locked.lead_id)
        changed = _apply(locked, {"name": clean_name, "email": clean_email})
        if new_lead_id != locked.lead_id:
            locked.lead_id = changed["lead_id"] = new_lead_id
        if changed:
            locked.save(update_fields=list(changed))
        added, removed = _replace_members(
            locked, None if member_list is None else {u.pk for u in member_list}
        )
        for member in (*(member_list or ()), *([lead] if lead is not None else [])):
            forget_team_ids(member)
        if added or removed:
            changed["members"] = {"added": added, "removed": removed}
        if not changed:
            return Team.objects.select_related("lead").get(pk=team.pk)
        record_event(locked, action="team.updated", actor=by, via=via, data=changed)
        publish(
            TeamUpdated(
                via=via,
                audience=Audience(
                    team_ids=frozenset({locked.pk}), user_ids=frozenset({*added, *removed})
                ),
                team_id=locked.pk,
                fields=tuple(sorted(changed)),
            )
        )
        for user_id in added:
            _publish_membership_changes(user_id, [locked.pk], [], via)
        for user_id in removed:
            _publish_membership_changes(user_id, [], [locked.pk], via)
    return Team.objects.select_related("lead").get(pk=team.pk)


def _replace_members(team: Team, wanted: set[int] | None) -> tuple[list[int], list[int]]:
    """Make the members exactly `wanted` (None: keep them), always with the lead among them."""
    current = set(Membership.objects.filter(team_id=team.pk).values_list("user_id", flat=True))
    target = set(current) if wanted is None else set(wanted)
    if team.lead_id is not None:
        target.add(team.lead_id)
    added = sorted(target - current)
    removed = sorted(current - target)
    if removed:
        Membership.objects.filter(team_id=team.pk, user_id__in=removed).delete()
    Membership.objects.bulk_create([Membership(team=team, user_id=pk) for pk in added])
    return added, removed


# --- sign-in lockout ------------------------------------------------------------------------


def normalize_sign_in_email(email: str) -> str:
    return email.strip().lower()[:254]


def record_sign_in_failure(email: str, *, at: datetime | None = None) -> SignInFailure:
    """Count one failed sign-in for `email`; the failure that reaches the limit locks it.

    Failures count within a window of SIGN_IN_LOCKOUT_S from the first one; a failure
    after the window (and after any lock) starts a new count. The row is locked and
    incremented in SQL, so concurrent failures all count.
    """
    at = at or timezone.now()
    key = normalize_sign_in_email(email)
    window = timedelta(seconds=settings.SIGN_IN_LOCKOUT_S)
    limit = settings.SIGN_IN_FAILURE_LIMIT
    with transaction.atomic():
        row, created = SignInFailure.objects.select_for_update().get_or_create(
            email=key, defaults={"failures": 1, "first_failed_at": at}
        )
        if not created:
            expired = row.first_failed_at + window <= at
            unlocked = row.locked_until is None or row.locked_until <= at
            if expired and unlocked:
                SignInFailure.objects.filter(pk=row.pk).update(
                    failures=1, first_failed_at=at, locked_until=None
                )
            elif unlocked:
                SignInFailure.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
            row.refresh_from_db()
        if row.failures < limit or (row.locked_until is not None and row.locked_until > at):
            return row
        until = at + window
        # Conditional, so two requests reaching the limit together lock (and audit) once.
        claimed = SignInFailure.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=at), pk=row.pk
        ).update(locked_until=until)
        row.refresh_from_db()
        if claimed:
            user_id = User.objects.filter(email=key).values_list("pk", flat=True).first()
            record_event(
                row,
                action="sign_in.locked",
                actor=None,
                via=Via.WEB,
                at=at,
                data={
                    "email": key,
                    "user_id": user_id,
                    "failures": row.failures,
                    "locked_until": until.isoformat(),
                },
            )
            publish(
                SignInLocked(
                    via=Via.WEB,
                    audience=Audience(user_ids=frozenset({user_id} if user_id else ())),
                    failure_id=row.pk,
                    user_id=user_id,
                    locked_until=until.isoformat(),
                )
            )
    return row


def clear_sign_in_failures(email: str) -> None:
    """Forget the failures of `email` after it signed in (or a reset proved its owner)."""
    SignInFailure.objects.filter(email=normalize_sign_in_email(email)).delete()
