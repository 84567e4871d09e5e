"""Run by the kill test in a child process: commit a notification, then die before delivering.

Usage: ``python outbox_child.py {sqlite|postgres} TARGET KEY_HEX MODE ID_FILE``

``MODE`` is ``in_send`` (the notifier writes the message id to ``ID_FILE`` and
SIGKILLs the process inside ``send``, after the commit) or ``after_commit``
(delivery after commit is off and the process SIGKILLs itself as soon as the
action returns). Either way the process never reaches a clean exit.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from mfakit.clock import FrozenClock
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing
from mfakit.service import Message, MfaService, RelyingParty, ServiceSettings
from mfakit.stores.postgres import PostgresStore
from mfakit.stores.sqlite import SQLiteStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class DieInSend:
    """A notifier whose process is killed while it sends (a crash mid-delivery)."""

    def __init__(self, id_file: Path) -> None:
        self.id_file = id_file

    def send(self, message: Message) -> None:
        self.id_file.write_text(message.message_id, encoding="ascii")
        os.kill(os.getpid(), signal.SIGKILL)


def main(kind: str, target: str, key_hex: str, mode: str, id_file: str) -> None:
    """Lock a member (one AccountLocked message), then die."""
    store: MfaStore = SQLiteStore(target) if kind == "sqlite" else PostgresStore(target)
    service = MfaService(
        store=store,
        keys=KeyRing({"k1": bytes.fromhex(key_hex)}, current="k1"),
        notifier=DieInSend(Path(id_file)),
        clock=FrozenClock(START),
        relying_party=RelyingParty(
            rp_id="console.example", rp_name="Console", origins=("https://console.example",)
        ),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=ServiceSettings(deliver_after_commit=mode == "in_send"),
    )
    service.create_organization("acme", name="Acme", owner_id="owner")
    service.add_member("acme", "mia")
    service.lock_member("acme", "mia", actor_id="owner")
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main(*sys.argv[1:6])
