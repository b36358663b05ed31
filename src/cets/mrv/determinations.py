"""Emissions determined by the authority (测算/核定) outside the verification chain, e.g. after a finding of false reporting:
Measures (2021) Art. 39 "逾期未改正的，由…省级生态环境主管部门测算其温室气体实际排放量，并将该排放量作为碳排放配额清缴的依据";
draft Measures (seed 002) Art. 43 "测算其排放量，该排放量除了作为配额清缴的依据…". Such a figure replaces the verified one as
the surrender basis.

MRV is below supervision, so it never imports it: a higher context registers a *source* here (a callable
``(market, year, entity_ids | None) -> {entity id: tonnes CO2e (int)}``), e.g. ``cets.supervision.apps`` registers the
determined emissions of its false-reporting findings. :func:`cets.mrv.selectors.authority_determinations` merges the
sources (a later source wins for the same entity) and :func:`cets.mrv.selectors.determined_emissions` applies them over
the verification figures; the compliance obligation reads them through the same selector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Source = Callable[[str, int, "Iterable[int] | None"], dict[int, int]]
_SOURCES: list[Source] = []


def register(source: Source) -> None:
    """Add ``source`` (idempotent: the same callable is registered once)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def sources() -> tuple[Source, ...]:
    return tuple(_SOURCES)
