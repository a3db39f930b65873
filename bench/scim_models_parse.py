"""What reading Zoom's list pages with scim2-models costs: 10,000 users, as 100 pages of 100.

Run from the repository root: .venv/bin/python bench/scim_models_parse.py
Compares the full model parse (`user_list_parse`) with json.loads alone, per item.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")
django.setup()

from zoomadmin.zoom.models import user_list_parse  # noqa: E402

ITEMS = 10_000
PAGE = 100


def list_item(n: int) -> dict[str, object]:
    """One user as Zoom's List users returns it (reduced projection)."""
    return {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser",
        ],
        "id": f"zJKyaiAyTNC-MWjiWC{n:04d}",
        "meta": {"resourceType": "User", "location": f"https://api.zoom.us/scim2/Users/zJKyaiAyTNC-MWjiWC{n:04d}"},
        "userName": f"user{n}@example.com",
        "name": {"givenName": f"Given{n}", "familyName": f"Family{n}"},
        "displayName": f"Given{n} Family{n}",
        "emails": [{"type": "work", "value": f"user{n}@example.com", "primary": True}],
        "active": True,
        "userType": "Licensed",
        "roles": {"display": "Member", "value": "Member", "primary": True},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Engineering"},
        "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser": {"loginType": {"workEmail": False, "sso": True}},
    }


def pages() -> list[str]:
    out = []
    for start in range(0, ITEMS, PAGE):
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": ITEMS,
            "startIndex": start + 1,
            "itemsPerPage": PAGE,
            "Resources": [list_item(n) for n in range(start, start + PAGE)],
        }
        out.append(json.dumps(body))
    return out


def run(raw_pages: list[str], *, models: bool) -> float:
    started = time.perf_counter()
    for raw in raw_pages:
        data = json.loads(raw)
        if models:
            user_list_parse(data)
    return time.perf_counter() - started


def main() -> None:
    raw_pages = pages()
    run(raw_pages[:2], models=True)  # warm-up: pydantic builds validators lazily
    json_only = [run(raw_pages, models=False) for _ in range(3)]
    full = [run(raw_pages, models=True) for _ in range(3)]
    best_json, best_full = min(json_only), min(full)
    print(f"{ITEMS} list items in {len(raw_pages)} pages (best of 3, median in brackets)")
    print(f"json.loads only:      {best_json:6.3f} s  ({statistics.median(json_only):.3f})")
    print(f"json + scim2-models:  {best_full:6.3f} s  ({statistics.median(full):.3f})")
    print(f"scim2-models per item: {(best_full - best_json) / ITEMS * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
