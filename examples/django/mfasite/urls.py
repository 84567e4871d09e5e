"""The project's URLs: everything is the ``mfa_django`` app's."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("mfa_django.urls"))]
