"""The ledger's one-round-trip write on PostgreSQL: ``cets_ledger_post`` (issue 19).

One call locks both accounts (``FOR NO KEY UPDATE``, in id order), answers a retry (the key is in the journal),
confirms that the accounts are still what the caller checked (number, kind, market, status), debits only if enough
is there, credits, appends the journal row with its hash and moves both accounts' heads. The hash is
``sha256(content ‖ 0x1e ‖ debit_prev ‖ 0x1e ‖ credit_prev)`` exactly as :func:`cets.registry.chain.entry_hash`:
the caller passes the canonical content (:func:`cets.registry.chain.content`), the function adds the previous heads
it read under the lock. It writes nothing unless it answers ``ok``. SQLite: nothing (the portable path).
"""

from django.db import migrations

from cets.core.migration_ops import PostgresOnlySQL

FUNCTION = r"""
CREATE OR REPLACE FUNCTION cets_ledger_post(
    p_key text, p_debit_id bigint, p_credit_id bigint, p_debit_fp text, p_credit_fp text,
    p_kind text, p_unit_type_id bigint, p_debit_position text, p_credit_position text, p_quantity bigint,
    p_reference text, p_related_id bigint, p_actor_id bigint, p_approver_id bigint,
    p_effective_at timestamptz, p_recorded_at timestamptz, p_beneficiary_id bigint, p_content text,
    OUT status text, OUT seq bigint, OUT debit_prev text, OUT credit_prev text, OUT hash text, OUT available bigint)
LANGUAGE plpgsql AS $$
DECLARE
    d_id bigint := COALESCE(p_debit_id, p_credit_id);
    n_rows integer := 0;
    posted boolean;
    r record;
    d_fp text;
    c_fp text;
    d_head text;
    c_head text;
BEGIN
    FOR r IN SELECT a.id, a.number, a.kind, a.market, a.status, a.head_hash FROM registry_account a
             WHERE a.id IN (d_id, p_credit_id) ORDER BY a.id FOR NO KEY UPDATE LOOP
        n_rows := n_rows + 1;
        IF r.id = d_id THEN
            d_fp := r.number || chr(31) || r.kind || chr(31) || r.market || chr(31) || r.status;
            d_head := CASE WHEN r.head_hash = '' THEN repeat('0', 64) ELSE r.head_hash END;
        END IF;
        IF r.id = p_credit_id THEN
            c_fp := r.number || chr(31) || r.kind || chr(31) || r.market || chr(31) || r.status;
            c_head := CASE WHEN r.head_hash = '' THEN repeat('0', 64) ELSE r.head_hash END;
        END IF;
    END LOOP;
    SELECT EXISTS (SELECT 1 FROM registry_transfer t WHERE t.key = p_key) INTO posted;
    IF posted THEN
        status := 'posted';
        RETURN;
    END IF;
    IF c_fp IS DISTINCT FROM p_credit_fp OR (p_debit_id IS NOT NULL AND d_fp IS DISTINCT FROM p_debit_fp) THEN
        status := 'stale';
        RETURN;
    END IF;
    IF p_debit_id IS NOT NULL THEN
        UPDATE registry_holding SET quantity = quantity - p_quantity
         WHERE account_id = p_debit_id AND unit_type_id = p_unit_type_id AND position = p_debit_position AND quantity >= p_quantity;
        IF NOT FOUND THEN
            SELECT h.quantity INTO available FROM registry_holding h
             WHERE h.account_id = p_debit_id AND h.unit_type_id = p_unit_type_id AND h.position = p_debit_position;
            available := COALESCE(available, 0);
            status := 'short';
            RETURN;
        END IF;
        debit_prev := d_head;
        credit_prev := CASE WHEN p_debit_id = p_credit_id THEN d_head ELSE c_head END;
    ELSE
        debit_prev := '';
        credit_prev := c_head;
    END IF;
    INSERT INTO registry_holding (account_id, unit_type_id, position, quantity)
    VALUES (p_credit_id, p_unit_type_id, p_credit_position, p_quantity)
    ON CONFLICT (account_id, unit_type_id, position) DO UPDATE SET quantity = registry_holding.quantity + excluded.quantity;
    hash := encode(sha256(convert_to(p_content || chr(30) || debit_prev || chr(30) || credit_prev, 'UTF8')), 'hex');
    INSERT INTO registry_transfer (key, kind, unit_type_id, debit_account_id, debit_position, credit_account_id, credit_position,
                                   quantity, reference, related_id, actor_id, approver_id, effective_at, recorded_at,
                                   debit_prev_hash, credit_prev_hash, hash, beneficiary_id)
    VALUES (p_key, p_kind, p_unit_type_id, p_debit_id, CASE WHEN p_debit_id IS NULL THEN '' ELSE p_debit_position END,
            p_credit_id, p_credit_position, p_quantity, p_reference, p_related_id, p_actor_id, p_approver_id, p_effective_at,
            p_recorded_at, debit_prev, credit_prev, hash, p_beneficiary_id)
    RETURNING registry_transfer.seq INTO seq;
    UPDATE registry_account SET head_hash = hash, head_seq = seq WHERE id IN (d_id, p_credit_id);
    status := 'ok';
END
$$;
"""

DROP = ("DROP FUNCTION IF EXISTS cets_ledger_post(text, bigint, bigint, text, text, text, bigint, text, text, bigint, text, bigint, "
        "bigint, bigint, timestamptz, timestamptz, bigint, text);")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0006_holder_trusted_delayed'),
    ]

    operations = [
        PostgresOnlySQL(FUNCTION, DROP),
    ]
