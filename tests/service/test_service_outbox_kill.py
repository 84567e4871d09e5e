"""Nothing is lost when the process dies after the commit and before delivery.

A child process (a fresh interpreter) locks a member, which commits one
AccountLocked message, and is SIGKILLed either inside the notifier's ``send``
(the message was claimed, not marked) or right after the action returned with
delivery after commit off (the message was never claimed). The parent then
opens a new service on the same SQLite file or PostgreSQL database and
delivers: the message arrives exactly once, with the id the child saw.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from service_databases import opener
from service_helpers import ORIGIN, RP_ID, SETTINGS, START

import mfakit
from mfakit.clock import FrozenClock
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import AccountLocked, InMemoryOutbox, MfaService, RelyingParty

CHILD = Path(__file__).with_name("outbox_child.py")


def _run_child(kind: str, target: str, key: bytes, mode: str, id_file: Path) -> int:
    env = dict(os.environ)
    src = str(Path(mfakit.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(CHILD), kind, target, key.hex(), mode, str(id_file)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize("mode", ["in_send", "after_commit"])
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_message_survives_a_killed_process(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str, mode: str
) -> None:
    """After a SIGKILL past the commit, a new process delivers the message exactly once."""
    dsn = request.getfixturevalue("service_postgres_dsn") if kind == "postgres" else ""
    path = tmp_path / "killed.sqlite3"
    open_store = opener(kind, path=path, dsn=dsn)
    key = generate_key()
    id_file = tmp_path / "message-id"
    returncode = _run_child(kind, str(path) if kind == "sqlite" else dsn, key, mode, id_file)
    assert returncode == -signal.SIGKILL

    store = open_store()
    clock = FrozenClock(START)
    outbox = InMemoryOutbox()
    service = MfaService(
        store=store,
        keys=KeyRing({"k1": key}, current="k1"),
        notifier=outbox,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=SETTINGS,
    )
    try:
        assert store.count_pending_messages() == 1
        if mode == "in_send":
            # The dead deliverer's claim holds until its lease ends.
            assert service.deliver_notifications().claimed == 0
            clock.advance(SETTINGS.delivery_lease)
        assert service.deliver_notifications().delivered == 1
        clock.advance(timedelta(days=1))
        assert service.deliver_notifications().claimed == 0
        (message,) = outbox.messages
        assert message == AccountLocked(user_id="mia", org_id="acme", reason="admin")
        if mode == "in_send":
            assert message.message_id == id_file.read_text(encoding="ascii")
        assert store.count_pending_messages() == 0
    finally:
        store.close()
