"""The console's own files (examples/console/static/), checked with Flask's test client."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import pytest
from console_http_helpers import BASE
from werkzeug.wsgi import FileWrapper


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [("favicon.svg", "image/svg+xml"), ("console.css", "text/css"), ("console.js", None)],
)
def test_static_files_are_answered_from_bytes(app: Any, name: str, mimetype: str | None) -> None:
    """The console's own files come as bytes, not as an open file that a dropped connection
    would leave open; revalidated by their ETag; nothing outside static/."""
    client = app.test_client()
    handed: list[Any] = []  # the files given to the server to stream

    def file_wrapper(file: Any, block_size: int = 8192) -> Any:
        handed.append(file)
        return FileWrapper(file, block_size)

    response = client.get(
        BASE + f"/static/{name}", environ_overrides={"wsgi.file_wrapper": file_wrapper}
    )
    assert response.status_code == 200
    assert handed == []
    assert response.data == (Path(app.static_folder) / name).read_bytes()
    assert response.mimetype == (mimetype or mimetypes.guess_type(name)[0])
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(
        BASE + f"/static/{name}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/static/../web.py", "/static/no-such-file.css"])
def test_nothing_else_is_a_static_file(app: Any, path: str) -> None:
    """Nothing outside static/, and no missing file, is answered."""
    assert app.test_client().get(BASE + path).status_code == 404
