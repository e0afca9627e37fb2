"""Shared fixtures: small seeded data sets and a session factory with a temporary store."""

import threading

import numpy as np
import pandas as pd
import pytest

from activelabel_widget import LabelingSession
from tickets import LABELS, ticket_frame  # noqa: F401  (the tests import them from here too)

@pytest.fixture
def tickets() -> pd.DataFrame:
    return ticket_frame()


@pytest.fixture
def make_session(tmp_path):
    """Build sessions on a store in tmp_path; closes them at the end of the test."""
    made = []

    def make(df=None, **options):
        options.setdefault("labels", LABELS)
        options.setdefault("store", tmp_path / "labels.db")
        options.setdefault("background", False)
        if df is None:
            df = ticket_frame()
            options.setdefault("text", "body")
        session = LabelingSession(df, **options)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


def truth_of(session, key) -> str:
    return session.dataset.df.loc[key, "truth"]


@pytest.fixture
def hold_back(monkeypatch):
    """``hold_back(module, name)`` makes ``module.name`` wait until the returned event is set (at most
    30 s), then run as before: a background step held back, so a test can look at the session meanwhile."""
    def hold(module, name: str) -> threading.Event:
        release = threading.Event()
        original = getattr(module, name)

        def held_back(*args, **kwargs):
            release.wait(30)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, held_back)
        return release

    return hold


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole test run (see pg_server.py), stopped at the end."""
    from pg_server import PostgresServer

    server = PostgresServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(postgres_server):
    """The URL of a fresh database on the test server."""
    return postgres_server.new_database()
