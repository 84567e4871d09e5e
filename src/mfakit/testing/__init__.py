"""Helpers for testing applications that use mfakit, and mfakit itself.

Nothing here is meant for production code paths.
"""

from __future__ import annotations

__all__: list[str] = []
