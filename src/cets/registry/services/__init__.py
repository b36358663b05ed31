"""Registry writes, by noun. Every function is one transaction; every movement of units is a journal
entry written through the ledger's one write path (:mod:`.ledger`, where the refusal precedence is
documented). Refusals raise :class:`cets.core.errors.CetsError` with a code from
:mod:`cets.registry.checks`, and change nothing. Reads are in :mod:`cets.registry.selectors`.

Modules: :mod:`.accounts` (system accounts, a holder's account, status, closure), :mod:`.ledger` (checks,
journal rows and hashes, SQL), :mod:`.transfers` (``transfer_post``, ``holding_transfer``), :mod:`.batch_transfers` (``transfer_batch_post``: a list of
transfers set-based, the same rows as one by one),
:mod:`.vintages` (``vintage_create``), :mod:`.proposals` (four eyes), :mod:`.issuance` (issuance and
claw-back, line by line or batched), :mod:`.retirement` (voluntary cancellation, deduction),
:mod:`.reversal`, :mod:`.reserve` (the national reserve: funding, release, buy-back — four eyes of the national
authority), :mod:`.blocks` (serial blocks of credits follow the journal), :mod:`.positions` (position moves, judicial freeze and release), :mod:`.holders`
(changes of holder), :mod:`.exchange` (the exchange's settlement side), :mod:`.operator` (what one operator alone
must not do: operator transfers, creating units, releasing freezes, reopening accounts — four eyes),
:mod:`.applications` (account opening for individuals and institutions: KYC review, four eyes), :mod:`.protection`
(holder protection: the trusted account list and the delayed transfer the holder can cancel).

Every public name is re-exported here: ``from cets.registry.services import X`` is the interface other
apps use. The transfer-kind and four-eyes tables are :mod:`cets.registry.kinds`.
"""

from ..kinds import HOLDER_KINDS, INSTRUMENT_MARKET, MARKET_INSTRUMENTS
from .accounts import KIND_CODES, account_close_propose, account_open, account_status_set, system_account, system_accounts_ensure
from .applications import application_get, application_propose, application_reject, application_search, application_submit, market_account_open
from .batch_transfers import BatchRefused, TransferLine, transfer_batch_post
from .exchange import exchange_deliver, exchange_hold, exchange_release
from .holders import holder_change_propose, holder_change_register
from .issuance import BATCH_MIN_LINES, IssuanceLine, free_allocation_propose, issuance_batch_post, issuance_lines_post, issuance_propose
from .ledger import Leg
from .operator import account_reopen_propose, freeze_release_propose, operator_transfer_propose, vintage_create_propose
from .positions import HOLDER_MOVES, judicial_freeze, judicial_release, position_move
from .proposals import FOUR_EYES, FourEyesOp, four_eyes, proposal_approve, proposal_reject, proposal_submit
from .protection import (
    activation_at,
    delayed_transfer_cancel,
    delayed_transfers_of,
    delayed_transfers_release_due,
    transfer_due_at,
    transfer_instruct,
    trusted_account_add,
    trusted_account_remove,
    trusted_accounts_of,
)
from .reserve import paid_allocation_propose, reserve_fund_propose, reserve_release_propose, reserve_share, reserve_withdraw_propose
from .retirement import cancellation_propose, deduction_propose
from .reversal import IRREVERSIBLE, reversal_propose
from .transfers import holding_transfer, transfer_post
from .vintages import carry_over_vintage_create, unit_type_code, vintage_create

__all__ = [
    "BatchRefused",
    "TransferLine",
    "transfer_batch_post",
    "application_get",
    "application_propose",
    "application_reject",
    "application_search",
    "application_submit",
    "activation_at",
    "delayed_transfer_cancel",
    "delayed_transfers_of",
    "delayed_transfers_release_due",
    "transfer_due_at",
    "transfer_instruct",
    "trusted_account_add",
    "trusted_account_remove",
    "trusted_accounts_of",
    "account_reopen_propose",
    "freeze_release_propose",
    "operator_transfer_propose",
    "vintage_create_propose",
    "carry_over_vintage_create",
    "BATCH_MIN_LINES",
    "FOUR_EYES",
    "HOLDER_KINDS",
    "HOLDER_MOVES",
    "INSTRUMENT_MARKET",
    "IRREVERSIBLE",
    "KIND_CODES",
    "MARKET_INSTRUMENTS",
    "FourEyesOp",
    "IssuanceLine",
    "Leg",
    "account_close_propose",
    "account_open",
    "market_account_open",
    "account_status_set",
    "cancellation_propose",
    "deduction_propose",
    "exchange_deliver",
    "exchange_hold",
    "exchange_release",
    "four_eyes",
    "holder_change_propose",
    "holder_change_register",
    "holding_transfer",
    "issuance_batch_post",
    "issuance_lines_post",
    "issuance_propose",
    "free_allocation_propose",
    "judicial_freeze",
    "judicial_release",
    "position_move",
    "proposal_approve",
    "proposal_reject",
    "proposal_submit",
    "reversal_propose",
    "reserve_fund_propose",
    "reserve_release_propose",
    "reserve_share",
    "reserve_withdraw_propose",
    "paid_allocation_propose",
    "system_account",
    "system_accounts_ensure",
    "transfer_post",
    "unit_type_code",
    "vintage_create",
]
