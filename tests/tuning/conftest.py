"""Fixtures of the tuning tests: optuna (skip without the tune extra), tiny data, and a
PostgreSQL database of the test's own on the server scripts/start_postgres.sh starts."""

import os
import uuid

import pytest

optuna = pytest.importorskip("optuna", reason="the tune extra (optuna) is not installed")
psycopg2 = pytest.importorskip("psycopg2", reason="the tune extra (psycopg2) is not installed")

# The server the tests use; .ci/run starts it and sets S4TS_REQUIRE_POSTGRES=1, so there an
# unreachable server fails the tests instead of skipping them.
POSTGRES_URL = os.environ.get("S4TS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:55432/postgres")


def _admin_connection():
    connection = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
    connection.autocommit = True  # CREATE/DROP DATABASE run outside transactions
    return connection


@pytest.fixture
def postgres_url():
    """The URL of a fresh database, dropped after the test."""
    try:
        admin = _admin_connection()
    except psycopg2.Error as err:
        reason = f"no PostgreSQL server at {POSTGRES_URL} ({str(err).strip().splitlines()[0]}); " \
                 f"start one with: bash scripts/start_postgres.sh"
        if os.environ.get("S4TS_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"s4ts_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
