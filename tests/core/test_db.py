"""``cets.core.db.pg_array``: one array parameter as a literal the server reads back exactly (issue 19)."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cets.core.db import pg_array


def test_ints_and_strings_make_literals_and_anything_else_is_refused():
    assert pg_array([3, 1, -2, 2**62]) == "{3,1,-2,4611686018427387904}"
    assert pg_array([]) == "{}"
    assert pg_array(["a", 'b"c', "d\\e", "NULL", ""]) == '{"a","b\\"c","d\\\\e","NULL",""}'
    for bad in ([True], [1, "1"], [1.0], [None], [b"x"], [1, None]):
        with pytest.raises(TypeError):
            pg_array(bad)


@pytest.mark.django_db
@pytest.mark.postgres
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the literal is PostgreSQL's")
@given(st.one_of(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30),
                 st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12), max_size=30)))
def test_the_server_reads_back_what_was_given(items):
    """Any ints, or any strings (quotes, backslashes, commas, braces, spaces, the word NULL, empty), come back as given."""
    kind = "bigint" if items and isinstance(items[0], int) else "text"
    with connection.cursor() as cur:
        cur.execute(f"SELECT %s::{kind}[]", [pg_array(items)])
        assert cur.fetchone()[0] == items


@pytest.mark.django_db(transaction=True)
def test_a_pipelined_block_applies_its_writes_and_raises_the_first_error_before_what_follows():
    """``pipelined``: the writes of the block are applied by its end; a statement the database refuses raises Django's
    IntegrityError — on PostgreSQL at the end of the block (the block's Python goes on meanwhile), on SQLite at the
    statement — and nothing after the block runs; the transaction then rolls back as any other."""
    from django.db import IntegrityError, transaction

    from cets.core.db import pipelined

    with connection.cursor() as cur:
        cur.execute("CREATE TABLE test_pipelined (x integer PRIMARY KEY, CHECK (x > 0))")
    try:
        with transaction.atomic(), connection.cursor() as cur:
            with pipelined(connection):
                cur.execute("INSERT INTO test_pipelined (x) VALUES (%s)", [1])
                cur.execute("INSERT INTO test_pipelined (x) VALUES (%s)", [2])
            cur.execute("SELECT x FROM test_pipelined ORDER BY x")
            assert [r[0] for r in cur.fetchall()] == [1, 2]
        reached = []
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            with pipelined(connection):
                cur.execute("INSERT INTO test_pipelined (x) VALUES (%s)", [3])
                cur.execute("INSERT INTO test_pipelined (x) VALUES (%s)", [-1])
                reached.append("in the block")
            reached.append("after the block")
        assert reached == (["in the block"] if connection.vendor == "postgresql" else [])
        with connection.cursor() as cur:
            cur.execute("SELECT x FROM test_pipelined ORDER BY x")
            assert [r[0] for r in cur.fetchall()] == [1, 2]
    finally:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE test_pipelined")
