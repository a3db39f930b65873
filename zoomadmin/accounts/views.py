"""Sign-in with Zoom, the home page and the Zoom connections of the signed-in admin."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The dashboard's front page."""
    return render(request, "accounts/home.html")
