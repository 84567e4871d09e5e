"""Logs and metrics on every store: a record and a count per audit event, timings, no secrets."""

from __future__ import annotations

import dataclasses
import logging
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from counting import CountingStore
from service_helpers import SETTINGS, START, app_for, build_service

import mfakit.observability
from mfakit.clock import FrozenClock
from mfakit.errors import (
    ConfigurationError,
    InvalidCodeError,
    ReplayedCodeError,
    StoreError,
    ThrottledError,
    VerificationError,
)
from mfakit.observability import (
    NO_METRICS,
    SECURITY_EVENTS_METRIC,
    SECURITY_LOGGER,
    SERVICE_CALL_METRIC,
    SLOW_STORE_CALLS_METRIC,
    STORE_CALL_METRIC,
    STORE_LOGGER,
    Metrics,
    NullMetrics,
)
from mfakit.policy import OrgPolicy
from mfakit.repositories import AuditEvent, MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    InMemoryOutbox,
    LoginCode,
    MfaService,
    ServiceSettings,
    UserRef,
)
from mfakit.service._observe import PORT_METHODS, TimedStore
from mfakit.service._rotation import SecretRewrap
from mfakit.testing import SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
OWNER = UserRef(user_id="u-owner", name="olivia@example.com")
MEMBER = UserRef(user_id="u-mia", name="mia@example.com")
ORG = "org-acme"
USER_IDS = {ADA.user_id, OWNER.user_id, MEMBER.user_id, "u-iam"}
#: Users in no organization may trust a browser, so the journey can use one.
PERSONAL = OrgPolicy(step_up_actions=frozenset(), trusted_browser_days=30)


class RecordingMetrics:
    """A :class:`~mfakit.observability.Metrics` that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float, dict[str, str]]] = []

    def increment(self, name: str, value: int = 1, *, tags: Mapping[str, str]) -> None:
        """Keep the count."""
        self.calls.append(("increment", name, value, dict(tags)))

    def timing(self, name: str, seconds: float, *, tags: Mapping[str, str]) -> None:
        """Keep the timing."""
        self.calls.append(("timing", name, seconds, dict(tags)))

    def tags(self, kind: str, name: str) -> list[dict[str, str]]:
        """The tags of each call of ``kind`` to ``name``, in order."""
        return [tags for k, n, _, tags in self.calls if (k, n) == (kind, name)]


class Capture(logging.Handler):
    """Keeps every record it is handed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)

    def of(self, logger: str) -> list[logging.LogRecord]:
        """The records of ``logger``."""
        return [r for r in self.records if r.name == logger]


@pytest.fixture
def logs() -> Iterator[Capture]:
    """Every record of the ``mfakit`` loggers, at DEBUG, for the test's duration."""
    logger = logging.getLogger("mfakit")
    handler = Capture()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def metrics() -> RecordingMetrics:
    """The service's metrics."""
    return RecordingMetrics()


def _service(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, metrics: Any, **settings: Any
) -> MfaService:
    changed = dataclasses.replace(SETTINGS, personal_policy=PERSONAL, **settings)
    return build_service(store, clock, outbox, changed, metrics=metrics)


@pytest.fixture
def observed(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, metrics: RecordingMetrics
) -> MfaService:
    """A service with recording metrics (slow store calls at the default threshold)."""
    return _service(store, clock, outbox, metrics)


def _journey(
    service: MfaService,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    authenticator: SoftAuthenticator,
) -> list[str]:
    """Every kind of security event, wrong and right; returns each secret it handled."""
    secrets: list[str] = []
    # TOTP: enroll, a wrong confirming code, the right one; a wrong sign-in, a right one.
    enrollment = service.begin_totp_enrollment(ADA)
    secrets += [enrollment.manual_key, enrollment.manual_key.replace(" ", ""), enrollment.uri]
    app = app_for(enrollment, clock)
    wrong = f"{(int(app.code()) + 1) % 1_000_000:06d}"
    secrets.append(wrong)
    with pytest.raises(InvalidCodeError):
        service.confirm_totp(ADA.user_id, enrollment.totp_id, wrong)
    code = app.code()
    activation = service.confirm_totp(ADA.user_id, enrollment.totp_id, code)
    secrets.append(code)
    backup = list(activation.backup_codes.codes)
    secrets += backup + [c.replace("-", "").replace(" ", "") for c in backup]
    clock.advance(30)
    wrong = f"{(int(app.code()) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidCodeError):
        service.verify_totp(ADA.user_id, wrong)
    code = app.code()
    service.verify_totp(ADA.user_id, code)
    secrets += [wrong, code]
    # A trusted browser: trusted, used, and a wrong token refused.
    token = service.trust_browser(ADA.user_id, label="Firefox")
    secrets += [token.token, token.token.rpartition(".")[2]]
    assert service.check_trusted_browser(ADA.user_id, token.token).trusted
    assert not service.check_trusted_browser(ADA.user_id, token.token[:-4] + "AAAA").trusted
    with pytest.raises(ReplayedCodeError):
        service.verify_totp(ADA.user_id, code)
    # Backup codes: a wrong one, a right one.
    with pytest.raises(InvalidCodeError):
        service.verify_backup_code(ADA.user_id, "AAAA-BBBB-CCCC-DDDD")
    service.verify_backup_code(ADA.user_id, backup[0])
    # A passkey: registered (a method added), a second factor, a sign-in without a username.
    started = service.begin_passkey_registration(ADA, name="Laptop")
    created = authenticator.create(started.options, discoverable=True)
    passkey = service.finish_passkey_registration(ADA.user_id, started.challenge_id, created)
    # Each ceremony once with the response to another challenge (refused), then right.
    stale = service.begin_second_factor(ADA.user_id)
    second = service.begin_second_factor(ADA.user_id)
    assert stale.challenge_id is not None
    assert second.challenge_id is not None
    wrong_response = authenticator.get(stale.webauthn_options)  # type: ignore[arg-type]
    with pytest.raises(VerificationError):
        service.verify_passkey(ADA.user_id, second.challenge_id, wrong_response)
    second = service.begin_second_factor(ADA.user_id)
    assert second.challenge_id is not None
    assertion = authenticator.get(second.webauthn_options)  # type: ignore[arg-type]
    secrets += [assertion["response"]["signature"], assertion["response"]["clientDataJSON"]]
    service.verify_passkey(ADA.user_id, second.challenge_id, assertion)
    stale_sign_in = service.begin_passkey_sign_in()
    sign_in = service.begin_passkey_sign_in()
    with pytest.raises(VerificationError):
        service.finish_passkey_sign_in(
            sign_in.challenge_id, authenticator.get(stale_sign_in.options)
        )
    sign_in = service.begin_passkey_sign_in()
    response = authenticator.get(sign_in.options)
    secrets.append(response["response"]["signature"])
    service.finish_passkey_sign_in(sign_in.challenge_id, response)
    # Throttled: wrong codes until the factor backs off.
    clock.advance(30)
    with pytest.raises(ThrottledError):  # noqa: PT012 - the throttle ends the loop
        for _ in range(10):
            with pytest.raises(InvalidCodeError):
                service.verify_totp(ADA.user_id, "000000" if app.code() != "000000" else "111111")
    clock.advance(timedelta(hours=1))
    # A method removed (the passkey; TOTP remains).
    clock.advance(30)
    service.verify_totp(ADA.user_id, app.code())
    service.delete_passkey(ADA.user_id, passkey.credential_id, confirmation="DELETE")
    # The organization: enforcement enabled and stopped, a lock, an exemption, a reset.
    owner_app, _ = _enrolled(service, clock, OWNER)
    service.create_organization(ORG, name="Acme", owner_id=OWNER.user_id, policy=OrgPolicy())
    service.add_member(ORG, MEMBER.user_id)
    _enrolled(service, clock, MEMBER)
    clock.advance(30)
    service.verify_totp(OWNER.user_id, owner_app.code())
    service.enforce_mfa(ORG, actor_id=OWNER.user_id, confirmation="ENFORCE")
    service.lock_member(ORG, MEMBER.user_id, actor_id=OWNER.user_id)
    service.unlock_member(ORG, MEMBER.user_id, actor_id=OWNER.user_id)
    service.grant_exemption(
        ORG,
        MEMBER.user_id,
        actor_id=OWNER.user_id,
        until=clock.now() + timedelta(days=1),
        reason="break-glass",
    )
    service.revoke_exemption(ORG, MEMBER.user_id, actor_id=OWNER.user_id)
    service.reset_member_mfa(ORG, MEMBER.user_id, actor_id=OWNER.user_id, reason="lost phone")
    service.stop_enforcement(ORG, actor_id=OWNER.user_id, confirmation="STOP")
    # An IAM member's emailed login code: a wrong one, then the right one.
    service.add_member(ORG, "u-iam", username="robot")
    service.send_login_code(ORG, "robot")
    service.deliver_notifications()
    login_code = outbox.of_type(LoginCode, user_id="u-iam")[0].code
    secrets.append(login_code)
    with pytest.raises(InvalidCodeError):
        service.verify_login_code(ORG, "robot", "ZZZZZZZZ" if login_code != "ZZZZZZZZ" else "Y")
    service.verify_login_code(ORG, "robot", login_code)
    return secrets


def _enrolled(service: MfaService, clock: FrozenClock, user: UserRef) -> tuple[Any, Any]:
    enrollment = service.begin_totp_enrollment(user)
    app = app_for(enrollment, clock)
    activation = service.confirm_totp(user.user_id, enrollment.totp_id, app.code())
    clock.advance(30)
    return app, activation


def _audit_trail(store: MfaStore) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    after: str | None = None
    while True:
        page = store.list_audit_events(limit=500, after=after)
        events += page.items
        if page.next_cursor is None:
            return events
        after = page.next_cursor


def _logged(logs: Capture) -> list[tuple[str, str, str, str | None]]:
    return [
        (r.mfa_action, r.mfa_outcome, r.levelname, r.mfa_factor)  # type: ignore[attr-defined]
        for r in logs.of(SECURITY_LOGGER)
    ]


@dataclasses.dataclass
class Journey:
    """What a journey through every kind of security event left behind."""

    store: MfaStore
    logs: Capture
    metrics: RecordingMetrics
    secrets: list[str]


@pytest.fixture
def journey(
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    authenticator: SoftAuthenticator,
    logs: Capture,
) -> Journey:
    """The journey, run by a service with recording metrics that logs every store call."""
    metrics = RecordingMetrics()
    service = _service(store, clock, outbox, metrics, slow_store_call=timedelta(0))
    secrets = _journey(service, clock, outbox, authenticator)
    return Journey(store=store, logs=logs, metrics=metrics, secrets=secrets)


# -- one record and one count per audit event ---------------------------------------------


def test_every_audit_event_written_is_logged_once(journey: Journey) -> None:
    """The security log and the audit trail hold the same events, each once, alike."""
    trail = {e.event_id: e for e in _audit_trail(journey.store)}
    records = journey.logs.of(SECURITY_LOGGER)
    logged = Counter(r.mfa_event_id for r in records)  # type: ignore[attr-defined]
    assert set(logged) == set(trail)
    assert set(logged.values()) == {1}
    for record in records:
        event = trail[record.mfa_event_id]  # type: ignore[attr-defined]
        fields = {k: v for k, v in vars(record).items() if k.startswith("mfa_")}
        assert fields == {
            "mfa_event_id": event.event_id,
            "mfa_action": event.action,
            "mfa_outcome": event.outcome,
            "mfa_factor": fields["mfa_factor"],
            "mfa_user_id": event.user_id,
            "mfa_org_id": event.org_id,
            "mfa_actor_id": event.actor_id,
            "mfa_details": dict(event.details),
        }
        assert record.msg == "mfa %s %s"
        assert record.args == (event.action, event.outcome)


def test_every_audit_event_is_counted_once(journey: Journey) -> None:
    """``mfakit.security_events`` is incremented by one per audit event, with its codes."""
    metrics, logs = journey.metrics, journey.logs
    counted = Counter(
        (t["action"], t["outcome"], t["factor"])
        for t in metrics.tags("increment", SECURITY_EVENTS_METRIC)
    )
    expected = Counter(
        (action, outcome, factor or "none") for action, outcome, _, factor in _logged(logs)
    )
    assert counted == expected
    assert sum(counted.values()) == len(_audit_trail(journey.store))
    assert all(v == 1 for k, n, v, _ in metrics.calls if k == "increment")


#: (action, outcome, level, factor) of each kind of security event of the journey.
KINDS = [
    ("totp.enrollment_started", "success", "INFO", "totp"),
    ("totp.confirm", "failure", "WARNING", "totp"),
    ("totp.activated", "success", "INFO", "totp"),
    ("backup_codes.generated", "success", "INFO", "backup_code"),
    ("totp.verify", "failure", "WARNING", "totp"),
    ("totp.verify", "success", "INFO", "totp"),
    ("totp.throttled", "throttled", "WARNING", "totp"),
    ("backup_code.verify", "failure", "WARNING", "backup_code"),
    # A success is audited by the method's kind (backup_codes), a failure by the
    # throttled factor's name (backup_code): one factor either way.
    ("backup_codes.verify", "success", "INFO", "backup_code"),
    ("passkey.registered", "success", "INFO", "passkey"),
    ("passkey.verify", "failure", "WARNING", "passkey"),
    ("passkey.verify", "success", "INFO", "passkey"),
    ("passkey.sign_in", "failure", "WARNING", "passkey_sign_in"),
    ("passkey.sign_in", "success", "INFO", "passkey_sign_in"),
    ("passkey.deleted", "success", "INFO", "passkey"),
    ("trusted_browser.trusted", "success", "INFO", "trusted_browser"),
    ("trusted_browser.used", "success", "INFO", "trusted_browser"),
    ("trusted_browser.used", "failure", "WARNING", "trusted_browser"),
    ("policy.enforcement.enable", "allow", "INFO", None),
    ("policy.enforcement.stop", "allow", "INFO", None),
    ("member.locked", "success", "WARNING", None),
    ("member.exemption_granted", "success", "INFO", None),
    ("member.exemption_revoked", "success", "INFO", None),
    ("policy.principal.unlock", "allow", "INFO", None),
    ("policy.exemption.grant", "allow", "INFO", None),
    ("policy.exemption.revoke", "allow", "INFO", None),
    ("member.mfa_reset", "success", "INFO", None),
    ("policy.principal.reset_mfa", "allow", "INFO", None),
    ("login_code.requested", "success", "INFO", "login_code"),
    ("login_code.verify", "failure", "WARNING", "login_code"),
    ("login_code.verify", "success", "INFO", "login_code"),
]


def test_each_kind_of_event_has_its_level_and_factor(journey: Journey) -> None:
    """Sign-ins by factor, throttles, locks, method and policy changes: level and factor."""
    logged = set(_logged(journey.logs))
    assert [kind for kind in KINDS if kind not in logged] == []


def test_a_rolled_back_event_is_neither_written_nor_logged(
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    authenticator: SoftAuthenticator,
    logs: Capture,
) -> None:
    """An event written in a transaction that fails is not logged: the log follows the commit."""
    counted = CountingStore(store)
    service = _service(counted, clock, outbox, NO_METRICS)  # type: ignore[arg-type]

    def fail(*args: object, **kwargs: object) -> None:
        raise StoreError("outbox unavailable")

    started = service.begin_passkey_registration(ADA, name="Laptop")
    created = authenticator.create(started.options)
    counted.enqueue_message = fail  # type: ignore[method-assign]
    with pytest.raises(StoreError):
        service.finish_passkey_registration(ADA.user_id, started.challenge_id, created)
    assert "passkey.registered" not in [e.action for e in _audit_trail(store)]
    assert "passkey.registered" not in [a for a, *_ in _logged(logs)]


# -- no secrets -----------------------------------------------------------------------------


def _texts(record: logging.LogRecord) -> list[str]:
    """What a record says: its message, format, arguments and ``mfa_*`` fields."""
    texts = [record.getMessage(), str(record.msg), repr(record.args)]
    texts += [repr(v) for k, v in vars(record).items() if k.startswith("mfa_")]
    return texts


def test_logs_hold_no_secret(journey: Journey) -> None:
    """No key, URI, code, backup code, login code, token or assertion in any record, at DEBUG."""
    logs = journey.logs
    # Every store call is logged too (threshold 0): the store's records are checked as well.
    assert len(logs.of(SECURITY_LOGGER)) > 40
    assert logs.of(STORE_LOGGER)
    texts = [text for record in logs.records for text in _texts(record)]
    leaks = []
    for secret in set(journey.secrets):
        # A short code counts as a whole token: it may occur inside a hex event id by chance.
        pattern = re.escape(secret)
        if len(secret) <= 8:
            pattern = rf"(?<![0-9A-Za-z]){pattern}(?![0-9A-Za-z])"
        leaks += [secret for text in texts if re.search(pattern, text)]
    assert leaks == []


# -- metrics: timings, tags, the no-op default -------------------------------------------------


def test_store_calls_are_timed_once_each(
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    metrics: RecordingMetrics,
) -> None:
    """``mfakit.store.call`` has one timing per port call, tagged with its name and outcome."""
    counted = CountingStore(store)
    service = _service(counted, clock, outbox, metrics)  # type: ignore[arg-type]
    app, _ = _enrolled(service, clock, ADA)
    counted.reset()
    metrics.calls.clear()
    service.verify_totp(ADA.user_id, app.code())
    timed = Counter(t["operation"] for t in metrics.tags("timing", STORE_CALL_METRIC))
    assert timed == counted.calls
    assert {t["outcome"] for t in metrics.tags("timing", STORE_CALL_METRIC)} == {"success"}
    assert all(s >= 0 for k, n, s, _ in metrics.calls if n == STORE_CALL_METRIC)


def test_service_calls_are_timed_with_their_outcome(
    observed: MfaService, clock: FrozenClock, metrics: RecordingMetrics
) -> None:
    """``mfakit.service.call`` times each public call; a failure's outcome is its error class."""
    app, _ = _enrolled(observed, clock, ADA)
    metrics.calls.clear()
    with pytest.raises(InvalidCodeError):
        observed.verify_totp(ADA.user_id, "000000" if app.code() != "000000" else "111111")
    observed.verify_totp(ADA.user_id, app.code())
    assert metrics.tags("timing", SERVICE_CALL_METRIC) == [
        {"operation": "verify_totp", "outcome": "InvalidCodeError"},
        {"operation": "verify_totp", "outcome": "success"},
    ]


def test_metric_tags_hold_no_ids(journey: Journey) -> None:
    """Each metric has a fixed set of tag names, and no tag holds a user or organization id."""
    names = {
        SECURITY_EVENTS_METRIC: {"action", "outcome", "factor"},
        SERVICE_CALL_METRIC: {"operation", "outcome"},
        STORE_CALL_METRIC: {"operation", "outcome"},
        SLOW_STORE_CALLS_METRIC: {"operation"},
    }
    assert {name for _, name, _, _ in journey.metrics.calls} == set(names)
    for _, name, _, tags in journey.metrics.calls:
        assert set(tags) == names[name]
        assert not set(tags.values()) & (USER_IDS | {ORG})


def test_the_default_metrics_do_nothing(service: MfaService) -> None:
    """Without ``metrics=`` the service uses NO_METRICS and times nothing for metrics."""
    assert isinstance(NO_METRICS, NullMetrics)
    assert isinstance(NO_METRICS, Metrics)
    assert NO_METRICS.increment("x", tags={}) is None
    assert NO_METRICS.timing("x", 1.0, tags={}) is None
    assert service._context.metrics is None


def test_metrics_must_implement_the_protocol(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """An object without increment() and timing() is refused."""
    with pytest.raises(ConfigurationError, match="metrics"):
        _service(store, clock, outbox, object())


def test_a_failing_metrics_backend_never_fails_a_sign_in(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, logs: Capture
) -> None:
    """A backend that raises is reported on ``mfakit.metrics``; the call succeeds."""

    class Broken:
        def increment(self, name: str, value: int = 1, *, tags: Mapping[str, str]) -> None:
            raise RuntimeError("statsd down")

        def timing(self, name: str, seconds: float, *, tags: Mapping[str, str]) -> None:
            raise RuntimeError("statsd down")

    service = _service(store, clock, outbox, Broken())
    app, _ = _enrolled(service, clock, ADA)
    assert service.verify_totp(ADA.user_id, app.code()).user_id == ADA.user_id
    failures = logs.of("mfakit.metrics")
    assert failures
    assert {r.levelname for r in failures} == {"ERROR"}


# -- slow store calls ---------------------------------------------------------------------------


def test_slow_store_calls_are_logged_with_the_method_and_duration(
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    metrics: RecordingMetrics,
    logs: Capture,
) -> None:
    """With a threshold of 0 every store call is slow: one WARNING each, name and duration only."""
    counted = CountingStore(store)
    service = _service(
        counted,  # type: ignore[arg-type]
        clock,
        outbox,
        metrics,
        slow_store_call=timedelta(0),
    )
    app, _ = _enrolled(service, clock, ADA)
    counted.reset()
    logs.records.clear()
    metrics.calls.clear()
    service.verify_totp(ADA.user_id, app.code())
    slow = logs.of(STORE_LOGGER)
    assert Counter(r.mfa_store_method for r in slow) == counted.calls  # type: ignore[attr-defined]
    for record in slow:
        name, ms = record.mfa_store_method, record.mfa_duration_ms  # type: ignore[attr-defined]
        assert record.levelno == logging.WARNING
        assert name in PORT_METHODS
        assert ms >= 0
        assert record.args == (name, ms)
        assert record.getMessage() == f"slow store call {name}: {ms:.1f} ms"
    slow_counts = Counter(
        t["operation"] for t in metrics.tags("increment", SLOW_STORE_CALLS_METRIC)
    )
    assert slow_counts == counted.calls


def test_fast_store_calls_are_not_logged(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, logs: Capture
) -> None:
    """Below the threshold nothing is logged on ``mfakit.store``."""
    service = _service(store, clock, outbox, NO_METRICS, slow_store_call=timedelta(hours=1))
    app, _ = _enrolled(service, clock, ADA)
    service.verify_totp(ADA.user_id, app.code())
    assert logs.of(STORE_LOGGER) == []


def test_the_store_is_wrapped_only_when_timing_is_used(
    store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox, metrics: RecordingMetrics
) -> None:
    """No threshold and no metrics: the flows call the host's store itself."""
    bare = _service(store, clock, outbox, NO_METRICS, slow_store_call=None)
    assert bare._context.store is store
    for service in (
        _service(store, clock, outbox, NO_METRICS),
        _service(store, clock, outbox, metrics, slow_store_call=None),
    ):
        assert isinstance(service._context.store, TimedStore)
        assert isinstance(service._context.store, MfaStore)
        assert service._context.store.inner is store
    assert repr(bare) == repr(_service(store, clock, outbox, metrics))


@pytest.mark.parametrize("value", [timedelta(seconds=-1), 0.25, "250ms"])
def test_slow_store_call_is_validated(value: object) -> None:
    """The threshold is a non-negative timedelta or None."""
    with pytest.raises(ConfigurationError, match="slow_store_call"):
        ServiceSettings(slow_store_call=value)  # type: ignore[arg-type]


def test_a_rewrap_without_a_service_is_logged(store: MfaStore, logs: Capture) -> None:
    """The command line's rewrap (no service) logs its audit event too."""
    keys = KeyRing({"k1": generate_key()}, current="k1")
    SecretRewrap(store=store, keys=keys, now=FrozenClock(START).now).rewrap_secrets()
    assert [r.mfa_action for r in logs.of(SECURITY_LOGGER)] == ["secretbox.rewrap"]  # type: ignore[attr-defined]
    assert [e.action for e in _audit_trail(store)] == ["secretbox.rewrap"]


def test_observability_all_is_pinned() -> None:
    """The public names of mfakit.observability are exactly these."""
    assert mfakit.observability.__all__ == [
        "METRICS_LOGGER",
        "Metrics",
        "NO_METRICS",
        "NullMetrics",
        "SECURITY_EVENTS_METRIC",
        "SECURITY_LOGGER",
        "SERVICE_CALL_METRIC",
        "SLOW_STORE_CALLS_METRIC",
        "STORE_CALL_METRIC",
        "STORE_LOGGER",
    ]


# -- library etiquette -----------------------------------------------------------------------------


def test_mfakit_has_a_null_handler_and_leaves_the_root_logger_alone() -> None:
    """Importing mfakit adds a NullHandler to ``mfakit`` and configures nothing else."""
    probe = (
        "import logging, mfakit.service, mfakit.stores.sqlite\n"
        "root = logging.getLogger()\n"
        "print([type(h).__name__ for h in logging.getLogger('mfakit').handlers])\n"
        "print(root.handlers, logging.getLevelName(root.level))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["['NullHandler']", "[] WARNING"]


# -- the guide --------------------------------------------------------------------------------

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "observability.md"
GUIDE_BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
#: The OpenTelemetry bridge's block (opentelemetry-api is in the test extra, not a dependency).
OTEL = [b for b in GUIDE_BLOCKS if b.startswith("# needs opentelemetry")]


def test_guide_examples_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    """The observability guide's blocks (but the OpenTelemetry one) run and print as shown."""
    assert len(OTEL) == 1
    namespace: dict[str, object] = {"__name__": "guide"}
    logger = logging.getLogger("mfakit")
    handlers, level = list(logger.handlers), logger.level
    try:
        for source in GUIDE_BLOCKS:
            if source not in OTEL:
                exec(compile(source, str(GUIDE), "exec"), namespace)  # noqa: S102
    finally:
        for handler in logger.handlers[len(handlers) :]:
            logger.removeHandler(handler)
        logging.getLogger(SECURITY_LOGGER).handlers.clear()
        logger.setLevel(level)
    out = capsys.readouterr().out
    assert "mfa totp.verify success INFO totp u-ada\n" in out
    assert (
        "mfakit.security_events 1 {'action': 'totp.enrollment_started', "
        "'outcome': 'success', 'factor': 'totp'}\n"
    ) in out


def test_guide_opentelemetry_bridge_is_metrics() -> None:
    """The OpenTelemetry bridge implements Metrics against the real opentelemetry-api."""
    namespace: dict[str, Any] = {"__name__": "guide"}
    exec(compile(OTEL[0], str(GUIDE), "exec"), namespace)  # noqa: S102
    bridge = namespace["OpenTelemetryMetrics"]()
    assert isinstance(bridge, Metrics)
    bridge.increment(SECURITY_EVENTS_METRIC, tags={"action": "totp.verify"})
    bridge.timing(SERVICE_CALL_METRIC, 0.01, tags={"operation": "verify_totp"})
