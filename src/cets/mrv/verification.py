"""Verification rules, pure (no Django, no I/O): random assignment of verification bodies (双随机)
under the conflict rule, the spot-check flag and the yearly verifier evaluation.

* Assignment: Regulations Art. 12 (the province organises verification) and Art. 13 (a technical
  service body may not both help prepare a report and verify it in the same province). The draw is
  seeded and reproducible: the same seed, entities and bodies give the same assignment.
* Spot check: 京环发〔2024〕8号 §四(二): 抽查与核查排放量差异超过1000吨或10%以上的，对核查机构予以提醒.
* Evaluation: 环办气候函〔2025〕140号 §二(九): bodies are evaluated yearly on quality (工作质量),
  compliance (合规性) and timeliness (及时性) and the result is published.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cets.core.errors import CetsError

from .checks import NO_BODIES, NO_ELIGIBLE_BODY


def _rng(seed: str) -> random.Random:
    # A string seed hashed to an int: stable across Python versions and processes (no hash randomisation).
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))


def assign_bodies(*, entities: Sequence[str], bodies: Sequence[str], conflicts: Mapping[str, Iterable[str]], seed: str,
                  capacity: int | None = None) -> dict[str, str]:
    """Draw one verification body for each entity at random (双随机), reproducibly from ``seed``.

    ``entities`` and ``bodies`` are identifiers (credit codes); ``conflicts`` maps an entity to the
    bodies that may not verify it (those that helped prepare its report, Regulations Art. 13, or
    the first verifier for a spot check). Each body takes at most ``capacity`` entities (default:
    the even share, ⌈entities / bodies⌉, so the work is spread). Entities are drawn in a shuffled
    order; an entity whose every eligible body is full may take any eligible body.
    Returns entity → body. Raises :class:`CetsError` V0302 without bodies, V0301 if an entity has no
    eligible body at all.
    """
    if not bodies:
        raise CetsError(NO_BODIES)
    ents = sorted(set(entities))
    pool = sorted(set(bodies))
    cap = capacity or -(-len(ents) // len(pool))
    rng = _rng(seed)
    rng.shuffle(ents)
    load = {b: 0 for b in pool}
    out: dict[str, str] = {}
    for e in ents:
        barred = set(conflicts.get(e, ()))
        eligible = [b for b in pool if b not in barred]
        if not eligible:
            raise CetsError(NO_ELIGIBLE_BODY, e)
        free = [b for b in eligible if load[b] < cap] or eligible
        b = rng.choice(free)
        load[b] += 1
        out[e] = b
    return out


@dataclass(frozen=True)
class SpotCheckRule:
    """Flag when ``|spot − verified| > abs_t`` tonnes or ``|spot − verified| / verified`` reaches
    ``rel`` (``rel_inclusive``: "10%以上" includes 10%)."""

    abs_t: int
    rel: Decimal
    rel_inclusive: bool = True


def spot_check_flags(*, verified_t: int, spot_t: int, rule: SpotCheckRule) -> bool:
    """True if a spot check's emissions (tonnes CO2e, int) differ from the verified emissions enough
    to flag the verification body (京环发〔2024〕8号 §四(二)). A verified figure of 0 with any
    difference counts as a 100% difference."""
    diff = abs(spot_t - verified_t)
    if diff > rule.abs_t:
        return True
    if diff == 0:
        return False
    if verified_t == 0:
        return True
    share = Decimal(diff) / Decimal(verified_t)
    return share >= rule.rel if rule.rel_inclusive else share > rule.rel


@dataclass(frozen=True)
class VerificationFact:
    """One verification by one body: ``on_time`` (the disclosure's 及时), ``notified_in_time``
    (result returned within the working-day limit; None if unknown), ``spot_checked`` and ``flagged``."""

    body: str
    on_time: bool
    notified_in_time: bool | None = None
    spot_checked: bool = False
    flagged: bool = False


@dataclass(frozen=True)
class BodyScore:
    """A body's year: ``verifications`` count; ``timeliness`` share on time; ``compliance`` share of
    results returned in time (None if none is known); ``quality`` share of spot checks not flagged
    (None if none was spot-checked). Shares are exact Decimals 0–1, rounded half up to 4 places."""

    body: str
    verifications: int
    timeliness: Decimal
    compliance: Decimal | None
    quality: Decimal | None
    spot_checks: int
    flagged: int


def _share(n: int, d: int) -> Decimal | None:
    from cets.core.quantities import round_half_up

    return None if d == 0 else round_half_up(Decimal(n) / Decimal(d), 4)


def evaluate_bodies(facts: Iterable[VerificationFact]) -> list[BodyScore]:
    """Score each body on timeliness, compliance and quality (环办气候函〔2025〕140号 §二(九)), sorted
    by body. No weighting into one mark is made: the notices publish the three criteria, not weights."""
    by: dict[str, list[VerificationFact]] = {}
    for f in facts:
        by.setdefault(f.body, []).append(f)
    out = []
    for body, fs in sorted(by.items()):
        known = [f for f in fs if f.notified_in_time is not None]
        checked = [f for f in fs if f.spot_checked]
        flagged = sum(1 for f in checked if f.flagged)
        out.append(BodyScore(body=body, verifications=len(fs), timeliness=_share(sum(f.on_time for f in fs), len(fs)),
                             compliance=_share(sum(bool(f.notified_in_time) for f in known), len(known)),
                             quality=_share(len(checked) - flagged, len(checked)), spot_checks=len(checked), flagged=flagged))
    return out
