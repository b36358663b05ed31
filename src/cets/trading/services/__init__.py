"""Trading writes, by noun: :mod:`.orders` (order entry with pre-trade checks, the sequencer, trade-by-trade
DVP settlement, auctions, the day's open and close) and :mod:`.funds` (the fund ledger, in fen), :mod:`.members` (exchange members and service institutions),
:mod:`.groupcommit` (the sequencer's batch: positions in memory, settlement set-based; issue 19), :mod:`.appends` (the
queued commands' appends, many callers' in one statement and one commit; issue 19), :mod:`.notify` (waiting for a queued
command's result without polling).

Every name other modules and tests used from ``cets.trading.services`` is re-exported here (including a
few internals the tests drive directly: ``_BOOKS``, ``_log``, ``_freeze``, ``_allocation_t``).
"""

from . import funds
from .appends import APPENDER, appends_write
from .members import acts_for, member_admit, member_client_add, member_reinstate, member_suspend, members_list, suspended_member_of
from .notify import applied_seq, wait_applied
from .orders import (
    _BOOKS,
    FALLBACKS,
    SHANGHAI,
    TRADER_ROLES,
    MarketRules,
    _allocation_t,
    _freeze,
    _log,
    auction_bid,
    auction_close,
    auction_offer,
    book_read,
    day_close,
    day_open,
    holding_limit_t,
    market_rules,
    order_cancel,
    order_place,
    order_place_queued,
    order_take,
    order_take_queued,
    sellable_t,
    sequencer_drain,
    tradeable_subjects,
    trading_day,
)

__all__ = [
    "_BOOKS", "FALLBACKS", "_allocation_t", "_freeze", "_log",
    "SHANGHAI", "TRADER_ROLES", "MarketRules", "auction_bid", "auction_close", "auction_offer", "book_read", "day_close", "day_open", "trading_day", "funds",
    "acts_for", "member_admit", "member_client_add", "member_reinstate", "member_suspend", "members_list", "suspended_member_of",
    "holding_limit_t", "market_rules", "order_cancel", "order_place", "order_place_queued", "order_take", "order_take_queued", "sellable_t", "sequencer_drain",
    "tradeable_subjects", "applied_seq", "wait_applied", "APPENDER", "appends_write",
]
