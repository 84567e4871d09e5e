"""mfakit: multi-factor authentication for web applications.

The library is split into small packages, each with its own public surface:

* :mod:`mfakit.otp` -- HOTP (RFC 4226), TOTP (RFC 6238) and ``otpauth://`` URIs.
* :mod:`mfakit.backup_codes` -- single-use recovery codes stored as Argon2id hashes.
* :mod:`mfakit.login_codes` -- emailed one-time login codes.
* :mod:`mfakit.secretbox` -- AES-256-GCM envelopes for secrets at rest.
* :mod:`mfakit.qr` -- QR codes for enrollment URIs.
* :mod:`mfakit.errors` -- the single exception tree every failure belongs to.
* :mod:`mfakit.clock` -- the only place that reads the current time.
* :mod:`mfakit.observability` -- the logger names and the metrics port.

Import the package you need, e.g. ``from mfakit.otp import TOTP``.

mfakit logs under the ``mfakit`` logger, which has a :class:`logging.NullHandler`
only: configure handlers in the application, never in a library.
"""

from __future__ import annotations

import logging

logging.getLogger("mfakit").addHandler(logging.NullHandler())

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
