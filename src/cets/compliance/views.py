"""Compliance pages. Every page checks role and jurisdiction through the selectors and
:mod:`cets.parties.access`; the public pages show only what is published."""

from __future__ import annotations

from django.shortcuts import render

from . import selectors


def penalties_public(request):
    """Published penalty decisions for failing to surrender (处罚信息公开, notice 国环规气候〔2024〕1号 §三(四)):
    public, no login."""
    return render(request, "compliance/penalties_public.html", {"decisions": selectors.penalties_published()[:500]})
