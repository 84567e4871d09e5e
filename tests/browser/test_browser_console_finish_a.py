"""The console as a finished product (issue 18) in Chromium, at a desktop width and a phone's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from console.screens import LONG_NAME, shoot, tour

#: The pages the tour must reach (every page a user can reach without an error).
PAGES = {
    "login",
    "signup",
    "security-new",
    "totp-setup",
    "backup-codes",
    "security",
    "org",
    "outbox",
    "second-factor",
    "member-login",
    "member-username",
    "member-code",
    "member-security",
    "invitation",
}


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
    )


@pytest.mark.parametrize("width", [1280, 360])
def test_no_page_scrolls_sideways_and_long_names_stay_in_their_card(
    browser: Any, console: Any, width: int
) -> None:
    """Every page fits the window's width; a 64-character name without a space wraps, keeps
    its Rename and Delete inside the card, and has its full text in a title."""
    contexts: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(viewport={"width": width, "height": 720})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    too_wide: dict[str, int] = {}
    seen: list[str] = []

    def visit(name: str, page: Any) -> None:
        seen.append(name)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > page.evaluate("window.innerWidth"):
            too_wide[name] = scroll
        if name == "security":
            card = page.locator("#set-up").bounding_box()
            for table in ("#totp-apps", "#passkey-list"):
                cell = page.locator(f"{table} td.name")
                assert cell.get_attribute("title") == LONG_NAME
                for summary in ("Rename", "Delete"):
                    box = page.locator(f"{table} summary", has_text=summary).bounding_box()
                    assert _inside(box, card), (table, summary, box, card)

    try:
        tour(new_page, console.url, console.app, visit)
    finally:
        for context in contexts:
            context.close()
    assert set(seen) == PAGES
    assert too_wide == {}


def test_screens_script_shoots_every_page(browser: Any, tmp_path: Path) -> None:
    """``python -m console.screens`` writes a screenshot of each page at each width."""
    taken = shoot(tmp_path, {"phone": 360}, browser=browser)
    names = {p.stem for p in taken}
    assert names == PAGES
    assert all(p.parent == tmp_path / "phone" and p.stat().st_size > 1000 for p in taken)
