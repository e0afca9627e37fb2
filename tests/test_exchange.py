"""Labeled data in and out: initial labels from a column, export in other tools' formats, and every
export read back by our own import."""

import json

import numpy as np
import pandas as pd
import pytest

from activelabel_widget import ActiveLabeler, LabelingSession
from activelabel_widget.errors import DataError, LabelError

from conftest import LABELS, ticket_frame


def labeled_session(tmp_path, n=30, name="s.db"):
    session = LabelingSession(ticket_frame(n), text="body", labels=LABELS, store=tmp_path / name, background=False)
    for i in range(6):
        session.label(session.current, LABELS[i % 3])
    return session


def imported_into_a_new_store(df, tmp_path, name, *, format=None, column="label"):
    """Import ``tmp_path / name`` into a fresh labeler of ``df``: its one-line report and the labels it holds then."""
    fresh = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "f.db", background=False)
    report = fresh.import_labels(tmp_path / name, format=format)
    labels = fresh.labeled[column].astype(str).to_dict()
    fresh.close()
    return report, labels


# -- initial labels ------------------------------------------------------------------------------

def test_initial_labels_from_a_column_come_in_once_as_imported_and_never_overwrite_a_hand_label(tmp_path):
    df = ticket_frame(30)
    df["earlier"] = None
    df.loc[df.index[:4], "earlier"] = ["bug", "feature", "question", "bug"]
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                              initial_labels="earlier")
    labeled = session.labeled
    assert labeled["label"].astype(str).to_dict() == {k: v for k, v in zip(df.index[:4], ["bug", "feature", "question", "bug"])}
    assert (labeled["source"] == "imported").all() and len(session.store.events()) == 4
    assert session.current not in set(df.index[:4])  # imported rows are not asked again
    session.label(df.index[0], "question")  # a correction of an imported label
    session.undo()
    session.label(df.index[0], "feature")
    session.close()

    df.loc[df.index[4], "earlier"] = "feature"  # a label added to the column later
    again = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False,
                            initial_labels="earlier")
    assert again.label_of(df.index[0]) == "feature"  # the hand correction stays
    assert again.label_of(df.index[4]) == "feature" and again.labeled.loc[df.index[4], "source"] == "imported"
    assert len(again.store.events()) == 4 + 3 + 1  # only the new row came in
    again.close()


def test_initial_labels_that_are_not_labels_or_a_missing_column_say_what_to_do(tmp_path):
    df = ticket_frame(10)
    df["earlier"] = ["bug", "spam"] + [None] * 8
    with pytest.raises(LabelError, match=r"labels \['spam'\] that are not in labels="):
        LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", initial_labels="earlier")
    assert not (tmp_path / "s.db").exists()
    with pytest.raises(DataError, match="initial_labels"):
        LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", initial_labels="nope")


# -- export and import ---------------------------------------------------------------------------

ROUND_TRIP = [("labels.parquet", None), ("labels.csv", None), ("labels.jsonl", None), ("labels.json", None),
              ("labels.prodigy.jsonl", "prodigy")]


@pytest.mark.parametrize("name, format", ROUND_TRIP)
def test_every_export_is_read_back_by_import_into_a_new_store(tmp_path, name, format):
    session = labeled_session(tmp_path)
    expected = session.labeled["label"].astype(str).to_dict()
    path = session.export(tmp_path / name, format=format)
    session.close()
    fresh = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "fresh.db", background=False)
    report = fresh.import_labels(path, format=format)
    assert report.startswith("6 labels imported")
    assert fresh.labeled["label"].astype(str).to_dict() == expected
    assert (fresh.labeled["source"] == "imported").all()
    assert fresh.undo() is not None and fresh.labeled.empty  # one undo step takes the import back
    fresh.close()


def test_our_flat_exports_carry_the_record_and_every_label_column(tmp_path):
    session = labeled_session(tmp_path)
    session.export(tmp_path / "labels.csv")
    frame = pd.read_csv(tmp_path / "labels.csv")
    assert list(frame.columns) == ["key", "body", "truth", "label", "labeled_at", "annotator", "source", "confidence",
                                   "previous_label", "rejected", "note"]
    session.export(tmp_path / "labels.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").open()]
    assert len(rows) == 6 and isinstance(rows[0]["key"], int) and rows[0]["labeled_at"].endswith("+00:00")
    session.close()


def test_the_label_studio_export_follows_its_documented_task_format(tmp_path):
    session = labeled_session(tmp_path)
    session.export(tmp_path / "ls.json")
    tasks = json.loads((tmp_path / "ls.json").read_text())
    assert isinstance(tasks, list) and len(tasks) == 6
    for task in tasks:
        assert isinstance(task["id"], int) and isinstance(task["data"]["text"], str)
        [annotation] = task["annotations"]
        assert annotation["was_cancelled"] is False
        [region] = annotation["result"]
        assert region["type"] == "choices" and region["from_name"] == "label" and region["to_name"] == "text"
        assert len(region["value"]["choices"]) == 1 and region["value"]["choices"][0] in LABELS
    key = tasks[0]["data"]["key"]
    assert tasks[0]["data"]["text"] == session.dataset.df.loc[key, "body"]
    assert tasks[0]["annotations"][0]["result"][0]["value"]["choices"] == [session.label_of(key)]
    session.close()


def test_the_prodigy_export_is_choice_tasks_with_hashes(tmp_path):
    session = labeled_session(tmp_path)
    session.export(tmp_path / "p.jsonl", format="prodigy")
    tasks = [json.loads(line) for line in (tmp_path / "p.jsonl").open()]
    assert len(tasks) == 6
    for task in tasks:
        assert task["answer"] == "accept" and task["options"] == [{"id": l, "text": l} for l in LABELS]
        assert len(task["accept"]) == 1 and task["accept"][0] in LABELS
        row = session.labeled.loc[task["meta"]["key"]]
        assert task["text"] == row["body"] and task["accept"] == [row["label"]]
        assert task["meta"]["source"] == row["source"] and task["meta"]["annotator"] == row["annotator"]
        assert all(-2**31 <= task[h] < 2**31 for h in ("_input_hash", "_task_hash"))
    assert len({t["_input_hash"] for t in tasks}) == 6
    session.close()


def test_an_image_record_travels_as_a_data_uri(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"pixels": [rng.integers(0, 16, (8, 8)) for _ in range(6)]})
    session = LabelingSession(df, image="pixels", labels=["a", "b"], store=tmp_path / "i.db", background=False)
    session.label(session.current, "a")
    session.export(tmp_path / "i.json")
    task = json.loads((tmp_path / "i.json").read_text())[0]
    assert task["data"]["image"].startswith("data:image/png;base64,")
    assert task["annotations"][0]["result"][0]["to_name"] == "image"
    session.close()


def test_a_hugging_face_dataset_holds_the_labeled_rows(tmp_path):
    datasets = pytest.importorskip("datasets")
    session = labeled_session(tmp_path)
    dataset = session.export(format="huggingface")
    assert isinstance(dataset, datasets.Dataset) and dataset.num_rows == 6
    assert dataset["label"] == session.labeled["label"].astype(str).tolist()
    session.export(tmp_path / "hf", format="huggingface")
    assert datasets.load_from_disk(str(tmp_path / "hf")).num_rows == 6
    session.close()


def test_import_keeps_labels_made_here_and_skips_changed_or_unknown_records(tmp_path):
    session = labeled_session(tmp_path)
    session.export(tmp_path / "labels.json")
    keys = list(session.labeled.index)
    session.close()
    df = ticket_frame(30)
    df.loc[keys[0], "body"] = "edited since the export"
    df = df.drop(index=keys[1])
    target = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "t.db", background=False)
    exported = pd.read_json(tmp_path / "labels.json")  # Label Studio tasks: what the file says of keys[2]
    given = next(t["annotations"][0]["result"][0]["value"]["choices"][0] for t in exported.to_dict("records")
                 if t["data"]["key"] == keys[2])
    other = next(label for label in LABELS if label != given)
    target.label(keys[2], other)
    report = target.import_labels(tmp_path / "labels.json")
    assert report == (f"3 labels imported from {tmp_path / 'labels.json'}; 1 row labeled or rejected here kept its answer; "
                      "1 not in this data; 0 with a label not in labels=; 1 whose record changed")
    assert target.label_of(keys[2]) == other and target.label_of(keys[0]) is None
    target.close()


def test_export_says_what_it_needs(tmp_path):
    session = labeled_session(tmp_path)
    with pytest.raises(DataError, match="Cannot tell the format"):
        session.export(tmp_path / "labels.xlsx")
    with pytest.raises(DataError, match="not an export format"):
        session.export(tmp_path / "labels.x", format="excel")
    with pytest.raises(DataError, match="needs a path"):
        session.export(format="csv")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="no 'key' and 'label' columns"):
        session.import_labels(tmp_path / "bad.csv")
    session.close()


def test_the_labeler_exports_and_imports_too(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "a.db", background=False)
    al.session.label(al.session.current, "bug")
    al.export(tmp_path / "out.csv")
    assert al.import_labels(tmp_path / "out.csv").startswith("0 labels imported")  # already here
    al.close()


@pytest.mark.parametrize("name", ["labels.csv", "labels.jsonl", "labels.parquet", "labels.json"])
def test_data_with_its_own_key_and_label_columns_exports_and_reads_back(tmp_path, name):
    df = ticket_frame(20).rename(columns={"truth": "label"})
    df["key"] = "user's own"
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    for i in range(4):
        session.label(session.current, LABELS[i % 3])
    expected = session.labeled["al_label"].astype(str).to_dict()
    session.export(tmp_path / name)
    session.close()
    if name != "labels.json":
        flat = pd.read_parquet(tmp_path / name) if name.endswith("parquet") else (
            pd.read_csv(tmp_path / name) if name.endswith("csv") else pd.read_json(tmp_path / name, lines=True))
        assert list(flat.columns[:2]) == ["al_key", "body"] and (flat["key"] == "user's own").all()
    fresh = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "f.db", background=False)
    assert fresh.import_labels(tmp_path / name).startswith("4 labels imported")
    assert fresh.labeled["al_label"].astype(str).to_dict() == expected
    fresh.close()


@pytest.mark.parametrize("name", ["labels.csv", "labels.jsonl", "labels.parquet", "labels.json"])
def test_data_with_columns_named_like_our_renamed_ones_reads_back_its_labels_not_those_columns(tmp_path, name):
    df = ticket_frame(20).rename(columns={"truth": "al_label"})
    df["al_key"] = df.index[::-1]  # other rows' keys: read as ours, the labels would land on those rows
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    for i in range(4):
        session.label(session.current, LABELS[(i + 1) % 3])
    expected = session.labeled["label"].astype(str).to_dict()
    session.export(tmp_path / name)
    session.close()
    report, labels = imported_into_a_new_store(df, tmp_path, name)
    assert report.startswith("4 labels imported") and labels == expected


def test_a_text_with_a_bare_carriage_return_or_any_line_break_reads_back_from_csv(tmp_path):
    df = ticket_frame(12)
    df.loc[df.index[:4], "body"] = ["cr\ronly", "lf\nonly", "crlf\r\nboth", "end\r"]
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session.label_many(range(4), ["bug", "feature", "question", "bug"], source="bulk")
    session.export(tmp_path / "labels.csv")
    session.close()
    fresh = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "f.db", background=False)
    assert fresh.import_labels(tmp_path / "labels.csv").startswith("4 labels imported")
    assert [fresh.label_of(key) for key in df.index[:4]] == ["bug", "feature", "question", "bug"]
    fresh.close()


@pytest.mark.parametrize("name", ["labels.csv", "labels.jsonl", "labels.parquet", "labels.json"])
def test_a_table_row_edited_since_the_export_keeps_its_label_out_and_the_others_come_in(tmp_path, name):
    df = pd.DataFrame({"amount": [10.5, 20.0, np.nan, 40.25, 7.0, 3.0], "n": [1, 2, 3, 4, 5, 6],
                       "country": ["FR", "DE", None, "UK", "FR", "US"], "vip": [True, False, True, False, True, False],
                       "seen": pd.to_datetime(["2024-01-05", "2024-02-01 10:30", "2024-03-01", None, "2024-05-05",
                                               "2024-06-06"], format="mixed").tz_localize("Europe/Paris"),
                       "tier": pd.Categorical(["a", "b", "a", "b", "a", "b"])})
    features = list(df.columns)
    session = LabelingSession(df, features=features, labels=["fraud", "ok"], store=tmp_path / "s.db", background=False)
    session.label_many(range(6), ["fraud", "ok"] * 3, source="bulk")
    session.export(tmp_path / name)
    session.close()
    edited = df.copy()
    edited.loc[0, "amount"], edited.loc[3, "country"] = 99.0, "NZ"
    fresh = LabelingSession(edited, features=features, labels=["fraud", "ok"], store=tmp_path / "f.db", background=False)
    report = fresh.import_labels(tmp_path / name)
    assert report.startswith("4 labels imported") and report.endswith("2 whose record changed")
    assert [fresh.label_of(i) for i in range(6)] == [None, "ok", "fraud", None, "fraud", "ok"]
    fresh.close()


@pytest.mark.parametrize("index", [
    pd.MultiIndex.from_tuples([("web", i) for i in range(6)] + [("app", i) for i in range(6)], names=["proj", "id"]),
    pd.Index([1, "1.5", "two", 3.5, "4", "x", 7, "8", 9, "ten", 11.25, "12"], dtype=object),
], ids=["multiindex", "mixed"])
@pytest.mark.parametrize("name, format", ROUND_TRIP)
def test_a_multiindex_or_mixed_index_round_trips_through_every_file_format(tmp_path, index, name, format):
    df = ticket_frame(12).set_axis(index)
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session.label_many([1, 8, 11], ["bug", "feature", "question"], source="bulk")
    expected = session.labeled["label"].astype(str).to_dict()
    session.export(tmp_path / name, format=format)
    session.close()
    report, labels = imported_into_a_new_store(df, tmp_path, name, format=format)
    assert report.startswith("3 labels imported") and labels == expected


def test_an_empty_text_key_reads_back_from_csv_as_itself_not_as_a_row_keyed_nan(tmp_path):
    df = ticket_frame(4).set_axis(pd.Index(["", "nan", "x", "y"], dtype=object))
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session.label_many([0, 2], ["bug", "feature"], source="bulk")
    session.export(tmp_path / "labels.csv")
    session.close()
    fresh = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "f.db", background=False)
    assert fresh.import_labels(tmp_path / "labels.csv").startswith("2 labels imported")
    assert [fresh.label_of(key) for key in ["", "nan", "x"]] == ["bug", None, "feature"]
    fresh.close()


def test_an_empty_text_reads_back_from_csv_as_the_same_record(tmp_path):
    df = ticket_frame(6)
    df.loc[df.index[0], "body"] = ""
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session.label_many([0, 1], ["bug", "feature"], source="bulk")
    expected = session.labeled["label"].astype(str).to_dict()
    session.export(tmp_path / "labels.csv")
    session.close()
    report, labels = imported_into_a_new_store(df, tmp_path, "labels.csv")
    assert report.startswith("2 labels imported") and labels == expected


@pytest.mark.parametrize("name, format", [("tasks.json", None), ("tasks.jsonl", "prodigy")])
def test_a_table_task_comes_back_onto_its_row_whatever_its_shown_columns_say_now(tmp_path, name, format):
    df = pd.DataFrame({"amount": [10.5, 20.0, 30.0, 7.25], "country": ["FR", "DE", "US", "UK"],
                       "owner": ["ann", "bob", "cy", "dee"]})
    options = dict(features=["amount", "country"], show=["owner"], labels=["fraud", "ok"], background=False)
    session = LabelingSession(df, store=tmp_path / "s.db", **options)
    session.label_many(range(4), ["fraud", "ok", "fraud", "ok"], source="bulk")
    session.export(tmp_path / name, format=format)
    session.close()
    edited = df.assign(owner="someone else")  # context only: every label comes back
    edited.loc[1, "amount"] = 21.0  # the record itself: that label stays out
    fresh = LabelingSession(edited, store=tmp_path / "f.db", **options)
    report = fresh.import_labels(tmp_path / name, format=format)
    assert report.startswith("3 labels imported") and report.endswith("1 whose record changed")
    assert [fresh.label_of(i) for i in range(4)] == ["fraud", None, "fraud", "ok"]
    fresh.close()


def test_a_csv_whose_text_was_edited_is_not_imported_onto_the_row(tmp_path):
    session = labeled_session(tmp_path)
    session.export(tmp_path / "labels.csv")
    session.close()
    frame = pd.read_csv(tmp_path / "labels.csv")
    changed_key = frame.loc[0, "key"]
    df = ticket_frame(30)
    df.loc[changed_key, "body"] = "something else entirely"
    fresh = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "f.db", background=False)
    assert fresh.import_labels(tmp_path / "labels.csv").endswith("1 whose record changed")
    assert fresh.label_of(changed_key) is None
    fresh.close()


@pytest.mark.parametrize("name, format", ROUND_TRIP)
def test_a_rejected_record_is_exported_as_a_rejection_and_comes_back_as_one(tmp_path, name, format):
    session = labeled_session(tmp_path)
    rejected = session.current
    session.reject()
    path = session.export(tmp_path / name, format=format)
    if format == "prodigy":
        task = next(t for t in map(json.loads, open(path)) if t["meta"]["key"] == rejected)
        assert (task["answer"], task["accept"]) == ("reject", [])
    elif name.endswith(".json"):
        task = next(t for t in json.loads(open(path).read()) if t["data"]["key"] == rejected)
        assert task["annotations"][0]["was_cancelled"] is True and task["annotations"][0]["result"] == []
    session.close()
    fresh = LabelingSession(ticket_frame(30), text="body", labels=LABELS, store=tmp_path / "fresh.db", background=False)
    assert fresh.import_labels(path, format=format).startswith("7 labels and rejections imported")
    assert fresh.label_of(rejected) is None
    row = fresh.labeled.loc[rejected]
    assert row["rejected"] and row["source"] == "imported" and pd.isna(row["label"])
    assert rejected not in fresh.queued(30).tolist() and fresh.current != rejected  # out of the line
    fresh.undo()  # the import was one step: the rejection goes with the labels
    assert len(fresh.labeled) == 0
    fresh.close()


@pytest.mark.parametrize("name", ["labels.csv", "labels.jsonl", "labels.json", "labels.parquet"])
@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
def test_a_time_index_round_trips_whatever_text_form_the_format_gives_it(tmp_path, name, tz):
    df = ticket_frame(12)
    df.index = pd.date_range("2024-01-05", periods=12, freq="D", tz=tz)
    session = LabelingSession(df, text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    for i in range(4):
        session.label(session.current, LABELS[i % 3])
    expected = session.labeled["label"].astype(str).to_dict()
    session.export(tmp_path / name)
    session.close()
    report, labels = imported_into_a_new_store(df, tmp_path, name)
    assert report.startswith("4 labels imported") and labels == expected
