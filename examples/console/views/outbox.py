"""The outbox: the e-mails the console "sent" (a stand-in for a real mailbox)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from console.delivery import deliver_pending
from console.web import accounts, service

bp = Blueprint("outbox", __name__)


@bp.route("/outbox")
def page() -> str:
    """The latest messages, optionally only those to one address (``?to=``).

    A demo mailbox: open to anyone who can reach the console, so that a member
    without an account session can read their sign-in code. A real application
    sends e-mails instead and has no such page.
    """
    recipient = request.args.get("to", "").strip() or None
    # Fetch the mail: deliver what waits in mfakit's outbox (the background
    # worker does it too; this keeps the page current the moment it opens).
    deliver_pending(service())
    return render_template(
        "outbox.html", mails=accounts().mails(recipient=recipient), recipient=recipient
    )
