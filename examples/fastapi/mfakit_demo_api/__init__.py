"""mfakit's FastAPI example: an async JSON API over :class:`~mfakit.service.AsyncMfaService`.

Start it from the repository root::

    python -m uvicorn --app-dir examples/fastapi --factory mfakit_demo_api:create_app \
        --host 127.0.0.1

and open http://localhost:8000. See ``examples/fastapi/README.md`` and
``docs/guides/fastapi.md``.
"""

from __future__ import annotations

from .app import close, create_app

__all__ = ["close", "create_app"]
