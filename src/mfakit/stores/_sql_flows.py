"""The SQL ports of short-lived state: challenges, login codes, throttling."""

from __future__ import annotations

from datetime import datetime, timedelta

from mfakit.repositories import (
    Challenge,
    LoginCode,
    ThrottleState,
)
from mfakit.stores._common import (
    check_record,
    dump_json,
    opt_micros,
    to_micros,
    utc,
)
from mfakit.stores._sql import SqlBase
from mfakit.stores._sql_rows import (
    CHAL_COLS,
    LOGIN_COLS,
    THROTTLE_COLS,
    marks,
    required,
    row_chal,
    row_login,
    row_throttle,
)

__all__ = ["FlowPorts"]


class FlowPorts(SqlBase):
    """The SQL ports of short-lived state: challenges, login codes, throttling."""

    # -- Challenges -----------------------------------------------------------------

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
        self._call(
            lambda c: c.run(
                f"INSERT INTO mfa_challenges ({CHAL_COLS}) VALUES ({marks(CHAL_COLS)})", params
            )
        )

    def pop_challenge(self, challenge_id: str, now: datetime) -> Challenge | None:
        """See :meth:`mfakit.repositories.ChallengeRepository.pop_challenge`."""
        at = to_micros(now)
        row = self._call(
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
        return self._call(
            lambda c: c.run("DELETE FROM mfa_challenges WHERE expires_at <= ?", [to_micros(now)])
        )

    # -- Login codes ----------------------------------------------------------------

    def put_login_code(self, code: LoginCode) -> None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.put_login_code`."""
        lc = code
        check_record(lc)
        params = [
            lc.subject,
            lc.code_id,
            bytes(lc.code_hash),
            to_micros(lc.created_at),
            to_micros(lc.expires_at),
            lc.max_attempts,
            lc.attempts,
            opt_micros(lc.consumed_at),
        ]
        updates = ", ".join(f"{col} = excluded.{col}" for col in LOGIN_COLS.split(", ")[1:])
        self._call(
            lambda c: c.run(
                f"INSERT INTO mfa_login_codes ({LOGIN_COLS}) VALUES ({marks(LOGIN_COLS)}) "
                f"ON CONFLICT (subject) DO UPDATE SET {updates}",
                params,
            )
        )

    def get_login_code(self, subject: str) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.get_login_code`."""
        row = self._call(
            lambda c: c.one(
                f"SELECT {LOGIN_COLS} FROM mfa_login_codes WHERE subject = ?", [subject]
            )
        )
        return None if row is None else row_login(row)

    def record_login_code_attempt(
        self, subject: str, code_id: str, *, now: datetime
    ) -> LoginCode | None:
        """See :meth:`mfakit.repositories.LoginCodeRepository.record_login_code_attempt`."""
        row = self._call(
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
        n = self._call(
            lambda c: c.run(
                "UPDATE mfa_login_codes SET consumed_at = ? WHERE subject = ? AND code_id = ? "
                "AND consumed_at IS NULL AND expires_at > ?",
                [at, subject, code_id, at],
            )
        )
        return n == 1

    def delete_login_code(self, subject: str) -> bool:
        """See :meth:`mfakit.repositories.LoginCodeRepository.delete_login_code`."""
        n = self._call(lambda c: c.run("DELETE FROM mfa_login_codes WHERE subject = ?", [subject]))
        return n == 1

    def purge_expired_login_codes(self, *, now: datetime) -> int:
        """See :meth:`mfakit.repositories.LoginCodeRepository.purge_expired_login_codes`."""
        at = to_micros(now)
        return self._call(
            lambda c: c.run(
                "DELETE FROM mfa_login_codes WHERE expires_at <= ? OR consumed_at <= ?", [at, at]
            )
        )

    # -- Throttle -------------------------------------------------------------------

    def get_throttle(self, key: str) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.get_throttle`."""
        row = self._call(
            lambda c: c.one(f"SELECT {THROTTLE_COLS} FROM mfa_throttle WHERE key = ?", [key])
        )
        return ThrottleState(key=key) if row is None else row_throttle(row)

    def record_failure(
        self, key: str, now: datetime, *, window: timedelta | None = None
    ) -> ThrottleState:
        """See :meth:`mfakit.repositories.ThrottleRepository.record_failure`."""
        at = to_micros(now)
        # A window restarts the count when the first failure is older than it;
        # without one, a NULL bound makes the comparison false.
        bound = None if window is None else to_micros(utc(now) - window)
        restart = "(t.first_failure_at IS NULL OR t.first_failure_at < ?)"
        row = self._call(
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
        row = self._call(
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
        self._call(lambda c: c.run("DELETE FROM mfa_throttle WHERE key = ?", [key]))
