"""Shared fixtures: small seeded data sets and a session factory with a temporary store."""

import threading

import numpy as np
import pandas as pd
import pytest

from activelabel_widget import LabelingSession

LABELS = ["bug", "feature", "question"]


def ticket_frame(n: int = 60, *, start: int = 100) -> pd.DataFrame:
    """A small text data set whose labels follow from keywords (so a model can learn them)."""
    rng = np.random.default_rng(0)
    templates = {
        "bug": ["app crashes when I {x}", "error and traceback after {x}", "crash on {x}, broken"],
        "feature": ["please add {x} support", "would love a way to {x}", "feature request: {x}"],
        "question": ["how do I {x}?", "how can I {x} in the settings?", "is there a guide to {x}?"],
    }
    verbs = ["save a file", "export csv", "log in", "open the editor", "sync my phone", "print"]
    rows, truth = [], []
    for i in range(n):
        label = LABELS[i % 3]
        rows.append(templates[label][rng.integers(3)].format(x=verbs[rng.integers(len(verbs))]))
        truth.append(label)
    return pd.DataFrame({"body": rows, "truth": truth}, index=pd.RangeIndex(start, start + n))


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
