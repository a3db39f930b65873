"""Reading rendered pages in tests."""

from __future__ import annotations

import re


def page_text(html: str) -> str:
    """The page's text with tags dropped and whitespace folded, to read sentences across markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
