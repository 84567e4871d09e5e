"""The SQL parts of short-lived state: challenges, login codes, throttling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from mfakit.repositories import (
    Challenge,
    LoginCode,
    ThrottleState,
)
from mfakit.stores._common import (
    check_cooldown,
    check_keys,
    check_record,
    dump_json,
    opt_micros,
    to_micros,
    utc,
)
from mfakit.stores._sql import SqlContext
from mfakit.stores._sql_rows import (
    CHAL_COLS,
    LOGIN_COLS,
    THROTTLE_COLS,
    marks,
    marks_for,
    required,
    row_chal,
    row_login,
    row_throttle,
)

__all__ = ["SqlChallenges", "SqlLoginCodes", "SqlThrottles"]

_LOGIN_UPDATES = ", ".join(f"{col} = excluded.{col}" for col in LOGIN_COLS.split(", ")[1:])


def _login_params(lc: LoginCode) -> list[object]:
    """Validate a login code and return its column values."""
    check_record(lc)
    return [
        lc.subject,
        lc.code_id,
        bytes(lc.code_hash),
        to_micros(lc.created_at),
        to_micros(lc.expires_at),
        lc.max_attempts,
        lc.attempts,
        opt_micros(lc.consumed_at),
        lc.key_id,
    ]


class SqlChallenges:
    """:class:`~mfakit.repositories.ChallengeRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def put_challenge(self, challenge: Challenge) -> None:
        """See :meth:`mfakit.repositories.ChallengeRepository.put_challenge`."""
        ch = challenge
        check_record(ch)
        params = [
            ch.challenge_id,
            ch.purpose,
            ch.user_id,
            bytes(ch.challenge),
            to_micros(ch.created_at),
            to_micros(ch.expires_at),
            dump_json(ch.context),
        ]
        self._sql.call(
            lambda c: c.run(
                f"INSERT INTO mfa_challenges ({CHAL_COLS}) VALUES ({marks(CHAL_COLS)})", params
            )
        )

    def pop_challenge(self, challenge_id: str, now: datetime) -> Challenge | None:
        """See :meth:`mfakit.repositories.ChallengeRepository.pop_challenge`."""
        at = to_micros(now)
        row = self._sql.call(
            lambda c: c.one(
                f"DELETE FROM mfa_challenges WHERE challenge_id = ? RETURNING {CHAL_COLS}",
                [challenge_id],
            )
        )
        if row is None or row[5] <= at:
            return None
        return row_chal(row)

    def purge_expired_challenges(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.ChallengeRepository.purge_expired_challenges`."""
        return self._sql.call(
            lambda c: c.run("DELETE FROM mfa_challenges WHERE expires_at <= ?", [to_micros(now)])
        )


class SqlLoginCodes:
    """:class:`~mfakit.repositories.LoginCodeRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def put_login_code(self, code: LoginCode) -> None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code`."""
        params = _login_params(code)
        self._sql.call(
            lambda c: c.run(
                f"INSERT INTO mfa_login_codes ({LOGIN_COLS}) VALUES ({marks(LOGIN_COLS)}) "
                f"ON CONFLICT (subject) DO UPDATE SET {_LOGIN_UPDATES}",
                params,
            )
        )

    def put_login_code_if_cooled_down(self, code: LoginCode, *, cooldown: timedelta) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code_if_cooled_down`."""
        check_cooldown(cooldown)
        params = _login_params(code)
        bound = to_micros(utc(code.created_at) - cooldown)
        # One upsert whose update is guarded: the conflicting row is locked and
        # the guard evaluated on its latest version, so of concurrent callers
        # only the first sees a code old enough. RETURNING yields a row only
        # when the code was inserted or the update ran.
        row = self._sql.call(
            lambda c: c.one(
                f"INSERT INTO mfa_login_codes AS l ({LOGIN_COLS}) VALUES ({marks(LOGIN_COLS)}) "
                f"ON CONFLICT (subject) DO UPDATE SET {_LOGIN_UPDATES} "
                "WHERE l.created_at <= ? RETURNING subject",
                [*params, bound],
            )
        )
        return row is not None

    def get_login_code(self, subject: str) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.get_login_code`."""
        row = self._sql.call(
            lambda c: c.one(
                f"SELECT {LOGIN_COLS} FROM mfa_login_codes WHERE subject = ?", [subject]
            )
        )
        return None if row is None else row_login(row)

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.record_login_code_attempt`."""
        row = self._sql.call(
            lambda c: c.one(
                "UPDATE mfa_login_codes SET attempts = attempts + 1 WHERE subject = ? "
                "AND code_id = ? AND consumed_at IS NULL AND expires_at > ? "
                f"AND attempts < max_attempts RETURNING {LOGIN_COLS}",
                [subject, code_id, to_micros(now)],
            )
        )
        return None if row is None else row_login(row)

    def consume_login_code(self, subject: str, code_id: str, *, now: datetime) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.consume_login_code`."""
        at = to_micros(now)
        n = self._sql.call(
            lambda c: c.run(
                "UPDATE mfa_login_codes SET consumed_at = ? WHERE subject = ? AND code_id = ? "
                "AND consumed_at IS NULL AND expires_at > ?",
                [at, subject, code_id, at],
            )
        )
        return n == 1

    def delete_login_code(self, subject: str) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.delete_login_code`."""
        n = self._sql.call(
            lambda c: c.run("DELETE FROM mfa_login_codes WHERE subject = ?", [subject])
        )
        return n == 1

    def purge_expired_login_codes(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.LoginCodeRepository.purge_expired_login_codes`."""
        at = to_micros(now)
        return self._sql.call(
            lambda c: c.run(
                "DELETE FROM mfa_login_codes WHERE expires_at <= ? OR consumed_at <= ?", [at, at]
            )
        )


class SqlThrottles:
    """:class:`~mfakit.repositories.ThrottleRepository` in SQL."""

    def __init__(self, sql: SqlContext) -> None:
        self._sql = sql

    def get_throttle(self, key: str) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttle`."""
        row = self._sql.call(
            lambda c: c.one(f"SELECT {THROTTLE_COLS} FROM mfa_throttle WHERE key = ?", [key])
        )
        return ThrottleState(key=key) if row is None else row_throttle(row)

    def get_throttles(self, keys: Sequence[str]) -> Mapping[str, ThrottleState]:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttles`."""
        unique = check_keys(keys)
        if not unique:
            return {}
        rows = self._sql.call(
            lambda c: c.all(
                f"SELECT {THROTTLE_COLS} FROM mfa_throttle WHERE key IN ({marks_for(unique)})",
                unique,
            )
        )
        found = {r[0]: row_throttle(r) for r in rows}
        return {k: found.get(k) or ThrottleState(key=k) for k in unique}

    def record_failure(
        self, key: str, now: datetime, *, window: timedelta | None = None
    ) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.record_failure`."""
        at = to_micros(now)
        # A window restarts the count when the first failure is older than it;
        # without one, a NULL bound makes the comparison false.
        bound = None if window is None else to_micros(utc(now) - window)
        restart = "(t.first_failure_at IS NULL OR t.first_failure_at < ?)"
        row = self._sql.call(
            lambda c: c.one(
                f"INSERT INTO mfa_throttle AS t ({THROTTLE_COLS}) VALUES (?, 1, ?, ?, NULL) "
                "ON CONFLICT (key) DO UPDATE SET "
                f"failures = CASE WHEN {restart} THEN 1 ELSE t.failures + 1 END, "
                f"first_failure_at = CASE WHEN {restart} THEN excluded.first_failure_at "
                "ELSE t.first_failure_at END, "
                f"last_failure_at = excluded.last_failure_at RETURNING {THROTTLE_COLS}",
                [key, at, at, bound, bound],
            )
        )
        return row_throttle(required(row))

    def lock_throttle(self, key: str, *, until: datetime) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.lock_throttle`."""
        row = self._sql.call(
            lambda c: c.one(
                f"INSERT INTO mfa_throttle AS t ({THROTTLE_COLS}) VALUES (?, 0, NULL, NULL, ?) "
                "ON CONFLICT (key) DO UPDATE SET locked_until = CASE "
                "WHEN t.locked_until IS NULL OR t.locked_until < excluded.locked_until "
                f"THEN excluded.locked_until ELSE t.locked_until END RETURNING {THROTTLE_COLS}",
                [key, to_micros(until)],
            )
        )
        return row_throttle(required(row))

    def reset_throttle(self, key: str) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttle`."""
        self._sql.call(lambda c: c.run("DELETE FROM mfa_throttle WHERE key = ?", [key]))

    def reset_throttles(self, keys: Sequence[str]) -> None:
        """See :meth:`mfakit.repositories.ThrottleRepository.reset_throttles`."""
        unique = check_keys(keys)
        if unique:
            self._sql.call(
                lambda c: c.run(
                    f"DELETE FROM mfa_throttle WHERE key IN ({marks_for(unique)})", unique
                )
            )
