"""`/favicon.ico` for both sites: browsers ask for it on pages without an icon link (Django's admin)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe


def favicon_redirect(name: str) -> Callable[[HttpRequest], HttpResponse]:
    """A view redirecting to the static file `name` (its hashed, long-cached URL in production)."""

    @require_safe
    def favicon(request: HttpRequest) -> HttpResponse:
        response = HttpResponseRedirect(static(name))
        # Not permanent: the hashed target changes with the icon. A day spares the redirect meanwhile.
        patch_cache_control(response, public=True, max_age=86400)
        return response

    return favicon
