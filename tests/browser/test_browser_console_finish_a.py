"""The console as a finished product (issue 18) in Chromium, at a desktop width and a phone's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from console.screens import LONG_NAME, shoot, tour

#: The pages the tour must reach: every page the console renders, in each state a user sees.
PAGES = {
    "login",
    "signup",
    "security-new",
    "totp-setup",
    "backup-codes",
    "security",
    "security-actions",
    "backup-codes-added-app",
    "step-up",
    "org",
    "outbox",
    "second-factor",
    "member-login",
    "member-username",
    "member-code",
    "member-security",
    "member-security-password",
    "member-password",
    "member-second-factor",
    "member-security-grace",
    "member-locked",
    "org-locked-member",
    "invitation",
    "passkey-offer",
    "not-found",
    "form-expired",
}

#: The elements of the page's cards that stick out of their card, sideways.
OUT_OF_CARD = """() => {
  const out = [];
  for (const card of document.querySelectorAll('main .card')) {
    const box = card.getBoundingClientRect();
    for (const el of card.querySelectorAll('*')) {
      if (el.closest('.sr-only, [hidden]')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) out.push(el.outerHTML.slice(0, 80));
    }
  }
  return out;
}"""

#: The short words (12 characters at most, up to a hyphen) of the page that are split over
#: two lines: a squeezed table column breaking "Rename" or "Disabled" in the middle.
SPLIT_WORDS = """() => {
  const split = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('.sr-only, script, [hidden]')) continue;
    const words = /[^\\s-]+-?/g;
    let m;
    while ((m = words.exec(node.data))) {
      if (m[0].length > 12) continue;
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      if (new Set(rects.map((r) => Math.round(r.top))).size > 1) split.push(m[0]);
    }
  }
  return split;
}"""


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
    )


@pytest.mark.parametrize("width", [1280, 360])
def test_no_page_scrolls_sideways_and_long_names_stay_in_their_card(
    browser: Any, console: Any, width: int
) -> None:
    """Every page, in every state the tour reaches, fits the window's width and keeps what its
    cards hold inside them, without splitting a short word; a 64-character name without a
    space wraps, keeps its Rename and Delete inside the card, and has its full text in a
    title."""
    contexts: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(viewport={"width": width, "height": 720})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    too_wide: dict[str, int] = {}
    out_of_card: dict[str, list[str]] = {}
    split: dict[str, list[str]] = {}
    seen: list[str] = []

    def visit(name: str, page: Any) -> None:
        seen.append(name)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > page.evaluate("window.innerWidth"):
            too_wide[name] = scroll
        if found := page.evaluate(OUT_OF_CARD):
            out_of_card[name] = found
        if found := page.evaluate(SPLIT_WORDS):
            split[name] = found
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
    assert sorted(seen) == sorted(PAGES)
    assert too_wide == {}
    assert out_of_card == {}
    assert split == {}


def test_screens_script_shoots_every_page(browser: Any, tmp_path: Path) -> None:
    """``python -m console.screens`` writes a screenshot of each page at each width."""
    taken = shoot(tmp_path, {"phone": 360}, browser=browser)
    names = {p.stem for p in taken}
    assert names == PAGES
    assert all(p.parent == tmp_path / "phone" and p.stat().st_size > 1000 for p in taken)
