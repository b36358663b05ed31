"""Serial blocks of CCER: minting on creation, first-in-first-out splits on every move, retirement, the
history of a serial and the audit's invariant (registry/serials.py, services/blocks.py, audit.serial_blocks)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.registry import serials
from cets.registry.serials import Span, merged, mint, overlaps, parse_serial, take_fifo

# ---------------------------------------------------------------- pure: split and merge invariants


@st.composite
def disjoint_spans(draw):
    """Up to 8 disjoint spans in random order (gaps allowed, like an account's blocks)."""
    cuts = sorted(draw(st.sets(st.integers(1, 400), min_size=0, max_size=16)))
    spans = [Span(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False)]
    return draw(st.permutations(spans))


def serial_set(spans) -> set[int]:
    return {n for s in spans for n in range(s.start, s.end + 1)}


@given(disjoint_spans(), st.data())
def test_take_fifo_takes_exactly_the_lowest_serials(spans, data):
    total = sum(s.size for s in spans)
    if total == 0:
        return
    q = data.draw(st.integers(1, total))
    taken, kept = take_fifo(spans, q)
    all_serials = sorted(serial_set(spans))
    assert sorted(serial_set(taken)) == all_serials[:q]  # first in, first out by serial
    assert serial_set(taken) | serial_set(kept) == set(all_serials)  # nothing lost or made
    assert not serial_set(taken) & serial_set(kept)  # no serial in two places
    assert len(set(taken) | set(kept)) - len(spans) <= 1  # at most one block split
    assert not overlaps([*taken, *kept])


@given(disjoint_spans(), st.integers(1, 50))
def test_take_fifo_refuses_more_than_held(spans, extra):
    with pytest.raises(ValueError):
        take_fifo(spans, sum(s.size for s in spans) + extra)


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 120)), max_size=40), st.integers(1, 300))
def test_moves_between_accounts_keep_every_serial_in_exactly_one_account(moves, cap):
    """A simulation of the ledger's rule: holdings per account always equal its serials, the union is 1…cap."""
    accounts: dict[int, list[Span]] = {0: [mint(0, cap)], 1: [], 2: []}
    held = {0: cap, 1: 0, 2: 0}
    for a, b, q in moves:
        if a == b or q > held[a]:
            continue
        taken, kept = take_fifo(accounts[a], q)
        accounts[a], accounts[b] = kept, accounts[b] + taken
        held[a] -= q
        held[b] += q
        for k, spans in accounts.items():
            assert sum(s.size for s in spans) == held[k]
        assert merged([s for spans in accounts.values() for s in spans]) == [Span(1, cap)]


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_mint_continues_after_the_highest_serial(highest, q):
    s = mint(highest, q)
    assert (s.start, s.end, s.size) == (highest + 1, highest + q, q)


def test_serial_format_round_trips():
    assert serials.serial_text("CCER-A110004-2023", 17) == "CCER-A110004-2023-000000017"
    assert parse_serial("CCER-A110004-2023-000000017") == ("CCER-A110004-2023", 17)
    assert parse_serial("CCER-A110004-2023-000000301-000001000") == ("CCER-A110004-2023", 301)
    for bad in ("", "CCER-A110004-2023", "CCER-A110004-2023-17", "000000017", "CCER-A1-2023-000000000"):
        assert parse_serial(bad) is None
    with pytest.raises(ValueError):
        Span(5, 4)


# ---------------------------------------------------------------- the registry: golden case by hand


@pytest.fixture
def ccer(db):
    """A CCER project of a real registered project code (data/ccer-national: A110004), three holders' CCER accounts."""
    from cets.parties.models import Organisation
    from cets.registry.models import AccountKind, CcerProject, Instrument
    from cets.registry.services import account_open, system_accounts_ensure, vintage_create

    system_accounts_ensure(market="ccer")
    orgs = [Organisation.objects.create(kind=Organisation.Kind.PROJECT_OWNER, name=f"业主{i}") for i in range(3)]
    project = CcerProject.objects.create(code="A110004", name="测试风电项目", owner=orgs[0])
    acc = [account_open(holder=o, kind=AccountKind.CCER_HOLDING, market="ccer") for o in orgs]
    ut = vintage_create(instrument=Instrument.CCER, vintage="2023", cap_t=1000, key="ccer-cap-1", project=project)
    return acc, ut


def post(kind, ut, debit, credit, q, key):
    from cets.registry.models import Position
    from cets.registry.services import Leg, transfer_post

    return transfer_post(key=key, kind=kind, unit_type=ut, debit=Leg(debit, Position.REGISTRY) if debit else None,
                         credit=Leg(credit, Position.REGISTRY), quantity=q)


def open_blocks(acc, ut):
    from cets.registry.models import SerialBlock

    return [(b.start, b.end) for b in SerialBlock.objects.filter(account=acc, unit_type=ut, closed_by__isnull=True).order_by("start")]


def test_blocks_follow_issuance_transfers_and_cancellation(ccer):
    """By hand: cap 1000 → serials 1–1000 in the national total; issue 1000 to A; A→B 300 (B 1–300, A 301–1000);
    B→C 100 (C 1–100, B 101–300); A→B 50 (B gets 301–350); B cancels 200 (its lowest: 101–300 retired);
    a second batch of the same vintage (500) is 1001–1500."""
    from cets.registry.audit import Replay, serial_blocks
    from cets.registry.models import AccountKind, Instrument, TransferKind
    from cets.registry.selectors import serial_history
    from cets.registry.services import system_account, vintage_create

    (a, b, c), ut = ccer
    total = system_account("ccer", AccountKind.NATIONAL_TOTAL)
    cancel = system_account("ccer", AccountKind.CANCELLATION)
    assert open_blocks(total, ut) == [(1, 1000)]
    post(TransferKind.ISSUE, ut, total, a, 1000, "i1")
    post(TransferKind.TRANSFER, ut, a, b, 300, "t1")
    assert (open_blocks(a, ut), open_blocks(b, ut)) == ([(301, 1000)], [(1, 300)])
    post(TransferKind.TRANSFER, ut, b, c, 100, "t2")
    post(TransferKind.TRANSFER, ut, a, b, 50, "t3")
    assert (open_blocks(a, ut), open_blocks(b, ut), open_blocks(c, ut)) == ([(351, 1000)], [(101, 300), (301, 350)], [(1, 100)])
    post(TransferKind.CANCELLATION, ut, b, cancel, 200, "x1")
    assert (open_blocks(b, ut), open_blocks(cancel, ut)) == ([(301, 350)], [(101, 300)])
    vintage_create(instrument=Instrument.CCER, vintage="2023", cap_t=500, key="ccer-cap-2", project=ut.project)
    assert open_blocks(total, ut) == [(1001, 1500)]
    assert serial_blocks(Replay()).ok

    h = serial_history("CCER-A110004-2023-000000150")
    assert [(s["kind"], s["from_account"], s["to_account"], s["block"]) for s in h["steps"]] == [
        ("create", "", total.number, "CCER-A110004-2023-000000001-000001000"),
        ("issue", total.number, a.number, "CCER-A110004-2023-000000001-000001000"),
        ("transfer", a.number, b.number, "CCER-A110004-2023-000000001-000000300"),
        ("cancellation", b.number, cancel.number, "CCER-A110004-2023-000000101-000000300"),
    ]
    assert h["retired"] and h["steps"][-1]["retired"] and (h["project"], h["vintage"]) == ("A110004", "2023")
    # serial 50 went to C and is not retired; its history skips the split that left it in B
    assert [s["to_account"] for s in serial_history("CCER-A110004-2023-000000050")["steps"]][-1] == c.number


def test_position_moves_do_not_move_serials_and_a_refused_entry_changes_no_block(ccer):
    from cets.core.errors import CetsError
    from cets.registry.audit import Replay, serial_blocks
    from cets.registry.models import AccountKind, Position, SerialBlock, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post

    (a, b, _c), ut = ccer
    total = system_account("ccer", AccountKind.NATIONAL_TOTAL)
    post(TransferKind.ISSUE, ut, total, a, 100, "i1")
    transfer_post(key="pm1", kind=TransferKind.POSITION_MOVE, unit_type=ut, debit=Leg(a, Position.REGISTRY), credit=Leg(a, Position.TRADING),
                  quantity=40)
    assert open_blocks(a, ut) == [(1, 100)]
    n = SerialBlock.objects.count()
    with pytest.raises(CetsError) as e:
        post(TransferKind.TRANSFER, ut, a, b, 61, "t-too-much")  # 60 in the registry position
    assert e.value.code == "R0302"
    assert SerialBlock.objects.count() == n and open_blocks(a, ut) == [(1, 100)] and open_blocks(b, ut) == []
    assert serial_blocks(Replay()).ok


def test_the_audit_finds_a_block_that_no_longer_covers_its_holding(ccer):
    from cets.registry.audit import Replay, serial_blocks
    from cets.registry.models import AccountKind, SerialBlock, TransferKind
    from cets.registry.services import system_account

    (a, b, _c), ut = ccer
    total = system_account("ccer", AccountKind.NATIONAL_TOTAL)
    post(TransferKind.ISSUE, ut, total, a, 1000, "i1")
    post(TransferKind.TRANSFER, ut, a, b, 10, "t1")
    assert serial_blocks(Replay()).ok
    SerialBlock.objects.filter(account=b, closed_by__isnull=True).update(end=11)  # a serial in two places
    res = serial_blocks(Replay())
    assert not res.ok and any("two blocks" in p for p in res.problems) and any("holds 10 t" in p for p in res.problems)


def test_retired_serials_never_move(ccer):
    from cets.registry.audit import Replay, serial_blocks
    from cets.registry.models import AccountKind, SerialBlock, TransferKind
    from cets.registry.services import system_account

    (a, _b, _c), ut = ccer
    total = system_account("ccer", AccountKind.NATIONAL_TOTAL)
    cancel = system_account("ccer", AccountKind.CANCELLATION)
    post(TransferKind.ISSUE, ut, total, a, 1000, "i1")
    t = post(TransferKind.CANCELLATION, ut, a, cancel, 10, "x1")
    retired = SerialBlock.objects.get(account=cancel)
    other = post(TransferKind.TRANSFER, ut, a, a.__class__.objects.exclude(pk__in=[a.pk]).filter(kind="ccer_holding").first(), 5, "t1")
    SerialBlock.objects.filter(pk=retired.pk).update(closed_by_id=other.seq)  # as if the retired block had moved on
    res = serial_blocks(Replay())
    assert not res.ok and any("retired but moved" in p for p in res.problems)
    assert t.seq < other.seq


def test_unknown_serial_is_refused_with_its_code(ccer):
    from cets.core.errors import CetsError
    from cets.registry.selectors import serial_history

    for text in ("nonsense", "CCER-A110004-2023-000009999", "CCER-NOPE-2023-000000001"):
        with pytest.raises(CetsError) as e:
            serial_history(text)
        assert e.value.code == "R1002"


# ---------------------------------------------------------------- one page, one API call, the CLI, the public list


@pytest.fixture
def traced(world, ccer):
    """Serials 1–1000 issued to A, 1–300 moved to B, B's lowest 200 (1–200) cancelled; B keeps 201–300, serial 150 is retired."""
    from cets.registry.models import AccountKind, TransferKind
    from cets.registry.services import system_account

    (a, b, _c), ut = ccer
    post(TransferKind.ISSUE, ut, system_account("ccer", AccountKind.NATIONAL_TOTAL), a, 1000, "i1")
    post(TransferKind.TRANSFER, ut, a, b, 300, "t1")
    post(TransferKind.CANCELLATION, ut, b, system_account("ccer", AccountKind.CANCELLATION), 200, "x1")
    return world, a, b, ut


def test_block_history_is_one_api_call_scoped_by_role(traced):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from tests.conftest import client_for

    w, a, b, _ut = traced
    r = client_for(w.mee).get("/api/v1/registry/blocks/CCER-A110004-2023-000000150")
    assert r.status_code == 200, r.content
    body = r.json()
    assert [s["kind"] for s in body["steps"]] == ["create", "issue", "transfer", "cancellation"]
    assert body["retired"] and body["block"] == "CCER-A110004-2023-000000001-000000200" and body["steps"][-1]["quantity_t"] == 200
    # a holder sees what it holds now (B holds 201–300), not what it no longer holds; unknown and hidden answer alike
    holder_b = member_create(username="holder-b", organisation=Organisation.objects.get(pk=b.holder_id), role=Role.TRADER, password="x-pass-123456")
    c = client_for(holder_b)
    assert c.get("/api/v1/registry/blocks/CCER-A110004-2023-000000250").status_code == 200
    for serial in ("CCER-A110004-2023-000000150", "CCER-A110004-2023-000009999", "nonsense"):
        r = c.get(f"/api/v1/registry/blocks/{serial}")
        assert (r.status_code, r.json()["code"]) == (422, "R1002")


def test_block_history_page_and_cli(traced, capsys):
    from cets.cli import main
    from tests.conftest import client_for

    w, a, b, _ut = traced
    page = client_for(w.mee).get("/registry/blocks/CCER-A110004-2023-000000150/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "CCER-A110004-2023-000000001-000000200" in html and b.number in html and a.number in html
    page = client_for(w.mee).get("/registry/blocks/?serial=CCER-A110004-2023-000009999")
    assert page.status_code == 200 and "R1002" in page.content.decode()
    assert main(["registry", "blocks", "CCER-A110004-2023-000000150"]) == 0
    out = capsys.readouterr().out
    assert "cancellation" in out and "CCER-A110004-2023-000000001-000000200" in out and "retired" in out
    assert main(["registry", "blocks", "CCER-A110004-2023-000009999"]) == 1
    assert "R1002" in capsys.readouterr().out


def test_retired_serials_are_public(traced):
    from django.test import Client

    _w, _a, b, _ut = traced
    c = Client()
    page = c.get("/public/retired-serials/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "CCER-A110004-2023-000000001-000000200" in html and "A110004" in html
    assert b.number not in html  # no holding account is shown
    csv = c.get("/public/retired-serials/download.csv").content.decode("utf-8-sig")
    assert "CCER-A110004-2023-000000001-000000200" in csv and "200" in csv


def test_the_real_ccer_registry_issues_one_block_per_batch_and_vintage(db):
    """data/ccer-national: every registered reduction batch is created and issued per vintage (ccer_registry_import);
    each creation is one block, issued whole to the project owner's CCER holding account; the audit proves the blocks."""
    from cets.registry.audit import Replay, serial_blocks
    from cets.registry.ccer import ccer_registry_import
    from cets.registry.models import AccountKind, SerialBlock, Transfer, TransferKind
    from cets.registry.selectors import serial_history
    from tests.conftest import DATA

    d = DATA / "ccer-national"
    counts = ccer_registry_import(projects_csv=d / "ccer_projects_and_reductions.csv", detail_csv=d / "ccer_reduction_annual_detail.csv")
    creates = list(Transfer.objects.filter(kind=TransferKind.CREATE, unit_type__instrument="CCER").select_related("unit_type"))
    assert creates and sum(t.quantity for t in creates) == counts["issued_t"]
    open_blocks = SerialBlock.objects.filter(closed_by__isnull=True)
    assert open_blocks.count() == len(creates)  # nothing moved after issuance: one block per batch and vintage
    assert not open_blocks.exclude(account__kind=AccountKind.CCER_HOLDING).exists()
    assert serial_blocks(Replay()).ok
    first = creates[0]
    h = serial_history(f"{first.unit_type.code}-000000001")
    assert [s["kind"] for s in h["steps"]] == ["create", "issue"] and h["steps"][-1]["quantity_t"] == first.quantity
