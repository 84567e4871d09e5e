"""Start the console: ``python -m console`` with ``examples/`` on the path (see scripts/demo)."""

from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from . import DEFAULT_INSTANCE_DIR, create_app
from .delivery import BackgroundDelivery


def main() -> None:
    """Parse the command line and serve the console until interrupted."""
    parser = argparse.ArgumentParser(prog="console", description="mfakit's example console")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8000")))
    parser.add_argument(
        "--instance-dir",
        default=os.environ.get("CONSOLE_INSTANCE_DIR", str(DEFAULT_INSTANCE_DIR)),
        help="where the data file and the secrets are kept (created if missing)",
    )
    args = parser.parse_args()
    origin = f"http://localhost:{args.port}"
    app = create_app(instance_dir=args.instance_dir, origin=origin)
    print(f"mfakit console: open {origin} (data in {args.instance_dir}; Ctrl+C to stop)")
    # The e-mails wait in mfakit's outbox until a deliverer sends them (sign-in codes always).
    delivery = BackgroundDelivery(app.extensions["mfa_service"])
    delivery.start()
    try:
        # Loopback only: this is a demo with a public outbox page.
        run_simple("127.0.0.1", args.port, app, threaded=True)
    finally:
        delivery.stop()


if __name__ == "__main__":
    main()
