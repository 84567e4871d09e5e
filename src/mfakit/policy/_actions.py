"""Sensitive actions: the open set of names a step-up can be asked for, and the rules on them.

An action is any name the host application chooses (``"delete_project"``,
``"api_key.create"``), checked by :func:`check_action`. A few are known to
mfakit itself (:class:`SensitiveAction`); the method-change actions among them
(:data:`METHOD_CHANGE_ACTIONS`) always need a step-up, whatever a policy says.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from mfakit.errors import ConfigurationError

__all__ = [
    "DEFAULT_STEP_UP_ACTIONS",
    "METHOD_CHANGE_ACTIONS",
    "SensitiveAction",
    "check_action",
]

# Lower case, digits and ``_ . : -``, starting with a letter or digit: safe in
# logs, URLs, JSON keys and SQL text, and one spelling per name (no case folding).
_ACTION = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")


class SensitiveAction(enum.StrEnum):
    """The sensitive actions mfakit itself names.

    Any other name accepted by :func:`check_action` is a valid action too: the
    host application names its own (changing a password, creating an API key,
    deleting a project) and asks for a recent second factor before them.
    """

    #: Adding a second factor when the user already has one.
    ADD_METHOD = "add_method"
    #: Replacing a second factor (a new TOTP secret for the authenticator app).
    REPLACE_METHOD = "replace_method"
    #: Deleting a second factor.
    REMOVE_METHOD = "remove_method"
    #: Replacing the backup codes with a new set.
    REGENERATE_BACKUP_CODES = "regenerate_backup_codes"
    #: Turning the organization's MFA enforcement off.
    STOP_ENFORCEMENT = "stop_enforcement"
    #: Turning the organization's MFA enforcement on.
    ENABLE_ENFORCEMENT = "enable_enforcement"
    #: Lifting another principal's lock.
    UNLOCK_PRINCIPAL = "unlock_principal"
    #: Resetting another user's MFA (support/admin recovery).
    RESET_MFA = "reset_mfa"
    #: Removing a member from the organization.
    REMOVE_MEMBER = "remove_member"
    #: Granting a break-glass exemption from enforcement.
    GRANT_EXEMPTION = "grant_exemption"


#: Actions that change the user's second factors. They always require a recent
#: second factor (when the user already has one), whatever a policy's
#: ``step_up_actions`` says: a session that never passed a second factor, or
#: passed one long ago, must not be able to add its own factor or take the
#: user's away. A policy sets only how recent the check must be.
METHOD_CHANGE_ACTIONS: frozenset[SensitiveAction] = frozenset(
    {
        SensitiveAction.ADD_METHOD,
        SensitiveAction.REPLACE_METHOD,
        SensitiveAction.REMOVE_METHOD,
        SensitiveAction.REGENERATE_BACKUP_CODES,
    }
)

#: The default of :attr:`OrgPolicy.step_up_actions <mfakit.policy.OrgPolicy.step_up_actions>`:
#: the method changes, stopping enforcement and the recovery actions (resetting
#: a user's MFA, removing a member, granting an exemption).
DEFAULT_STEP_UP_ACTIONS: frozenset[str] = frozenset(
    {
        *METHOD_CHANGE_ACTIONS,
        SensitiveAction.STOP_ENFORCEMENT,
        SensitiveAction.RESET_MFA,
        SensitiveAction.REMOVE_MEMBER,
        SensitiveAction.GRANT_EXEMPTION,
    }
)


def check_action(action: Any, *, field: str = "action") -> str:
    """Return a valid action name, or refuse it.

    A valid name has 1 to 64 characters from ``a-z 0-9 _ . : -`` and starts
    with a letter or a digit. Names of :class:`SensitiveAction` come back as
    its members (which are ``str``), any other as the string given.

    Example::

        check_action("delete_project")  # 'delete_project'
        check_action("remove_method")  # SensitiveAction.REMOVE_METHOD

    Raises:
        ConfigurationError: not a string, or not a valid name; the message
            names ``field`` (never the value).
    """
    if not isinstance(action, str) or _ACTION.fullmatch(action) is None:
        raise ConfigurationError(
            f"{field} must be 1 to 64 characters from a-z 0-9 _ . : - "
            "starting with a letter or a digit"
        )
    try:
        return SensitiveAction(action)
    except ValueError:
        return str(action)
