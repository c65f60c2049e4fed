"""The two ways a results document becomes frames give the same answers.

With pyarrow installed, large documents are read by pyarrow and msgspec side by side
(``decode_document(raw, arrow=True)``); otherwise by msgspec alone (``arrow=False``). Every frame,
item and error must be the same either way, and the pyarrow way must only be taken when it
can vouch for that.
"""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from typing import Any

import polars as pl
import pytest

from rapidata_async.local._results import ResultItem, Vote, build_results_document
from rapidata_async.results import JobResults, _types

pytest.importorskip("pyarrow")

decode_document = _types.decode_document


def vote(answer: str, score: float, country: str = "DE", **kw: str) -> Vote:
    return Vote(
        answer=answer,
        user_score=score,
        country=country,
        language=kw.get("language", "de"),
        age=kw.get("age", "18-29"),
        gender=kw.get("gender", "Female"),
        occupation=kw.get("occupation", "Healthcare"),
    )


def _compare_items() -> list[ResultItem]:
    return [
        ResultItem(3, ["x.png", "y.png"], [], context="nobody voted"),
        ResultItem(
            0,
            ["a.jpg", "b.jpg"],
            [vote("a.jpg", 0.4), vote("b.jpg", 0.61, "US", age="65+"), vote("b.jpg", 0.2, "BR")],
            context="first",
            asset_urls={"a.jpg": "https://x/a.jpg", "b.jpg": "https://x/b.jpg"},
            private_metadata={"seed": "7", "model": "flux"},
        ),
        ResultItem(
            1,
            ["c.jpg", "d.jpg"],
            [vote("c.jpg", 0.9), vote("Both", 0.5), vote("Neither", 0.3), vote("d.jpg", 0.1)],
            context="second",
            context_asset="ctx.png",
            private_metadata={"seed": "8"},
        ),
        ResultItem(2, ["é.png", "😀.png"], [vote("😀.png", 0.77, "JP", gender="Other")]),
    ]


def _classification_items() -> list[ResultItem]:
    return [
        ResultItem(
            0,
            ["Dog", "Cat", "Bird"],
            [vote("Dog", 0.3), vote("Cat", 0.8486, "US"), vote("Dog", 0.4469)],
            original_file_name="dog.jpeg",
            context="what is it?",
            private_metadata={"batch": "1"},
        ),
        ResultItem(1, ["Dog", "Cat", "Bird"], [], original_file_name="empty.jpeg"),
        ResultItem(
            2,
            ["Dog", "Cat", "Bird"],
            [vote("Bird", 0.5, occupation="Student")],
            original_file_name="bird.jpeg",
            context_asset="ctx.png",
        ),
    ]


def _doc(kind: Any, items: list[ResultItem], **kw: Any) -> bytes:
    options = {"early_stopping": False, "index_identifiers": None, **kw}
    return build_results_document(kind, items, **options)


DOCUMENTS = {
    "compare": _doc("Compare", _compare_items()),
    "compare-confidence": _doc("Compare", _compare_items(), early_stopping=True),
    "compare-identifiers": _doc(
        "Compare", _compare_items()[1:2], index_identifiers=["Flux", "Midjourney"]
    ),
    "compare-no-votes": _doc("Compare", _compare_items()[:1]),
    "compare-empty": _doc("Compare", []),
    "classification": _doc("Classification", _classification_items()),
    "classification-confidence": _doc(
        "Classification", _classification_items(), early_stopping=True
    ),
}


def _edited(name: str, edit: Any) -> bytes:
    doc = json.loads(DOCUMENTS[name])
    edit(doc)
    return json.dumps(doc, ensure_ascii=False).encode()


def _responses(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for item in doc["results"] for r in item["detailedResults"]]


def _drop_demographics(doc: dict[str, Any]) -> None:
    for i, response in enumerate(_responses(doc)):
        details = response["userDetails"]
        del details[["country", "language", "age", "gender", "occupation"][i % 5]]
        if i % 2:
            del details["userScores"]["global"]


def _null_answers(doc: dict[str, Any]) -> None:
    for response in _responses(doc)[::2]:
        response["votedFor"] = None


def _optional_keys_gone(doc: dict[str, Any]) -> None:
    for item in doc["results"]:
        for key in ("assetUrls", "privateMetadata", "contextAsset", "confidencePerCategory"):
            item.pop(key, None)
        item["summedUserScoresRatios"] = {}


def _type_renamed(doc: dict[str, Any]) -> None:
    doc["info"]["orderType"] = doc["info"].pop("type")


def _extra_keys(doc: dict[str, Any]) -> None:
    doc["info"]["aggregator"] = "next"
    for response in _responses(doc):
        response["timestamp"] = "2026-01-01T00:00:00Z"
        response["userDetails"]["userScores"]["other"] = 0.5


# Documents the pyarrow way reads itself: its frames must be the plain way's.
FAST_DOCUMENTS = {
    **DOCUMENTS,
    "compare-demographics-missing": _edited("compare", _drop_demographics),
    "compare-null-answers": _edited("compare", _null_answers),
    "compare-optional-keys-gone": _edited("compare-confidence", _optional_keys_gone),
    "classification-extra-keys": _edited("classification", _extra_keys),
    "classification-older-type-key": _edited("classification", _type_renamed),
    "compare-pretty-printed": json.dumps(json.loads(DOCUMENTS["compare"]), indent=2).encode(),
    "compare-trailing-newline": DOCUMENTS["compare"] + b"\n",
}


@pytest.mark.parametrize("name", FAST_DOCUMENTS)
@pytest.mark.parametrize("split_details", [False, True])
def test_both_ways_give_the_same_frame(name: str, split_details: bool) -> None:
    raw = FAST_DOCUMENTS[name]
    plain = decode_document(raw, arrow=False)
    fast = decode_document(raw, arrow=True)
    assert plain._frames is None and fast._frames is not None  # each went its own way
    expected = plain.to_polars(split_details=split_details)
    got = fast.to_polars(split_details=split_details)
    assert got.equals(expected), (got, expected)
    assert got.schema == expected.schema
    assert fast.to_pandas(split_details=split_details).equals(
        plain.to_pandas(split_details=split_details)
    )


@pytest.mark.parametrize("name", ["compare", "compare-confidence", "classification"])
def test_both_ways_give_the_same_results(name: str) -> None:
    raw = DOCUMENTS[name]
    plain = decode_document(raw, arrow=False)
    fast = decode_document(raw, arrow=True)
    assert (len(fast), fast.response_count) == (len(plain), plain.response_count)
    assert (fast.info, fast.summary, fast.type) == (plain.info, plain.summary, plain.type)
    assert fast._items is None  # decoded on first use only
    assert fast.results == plain.results
    assert fast == plain
    assert fast.to_json_bytes() == raw
    assert repr(fast) == repr(plain) and str(fast) == str(plain)


def test_frames_handed_out_are_the_callers() -> None:
    fast = decode_document(DOCUMENTS["compare"], arrow=True)
    frame = fast.to_polars()
    frame.insert_column(0, pl.Series("mine", range(frame.height)))
    assert "mine" not in fast.to_polars().columns


def _null_user_details(doc: dict[str, Any]) -> None:
    _responses(doc)[0]["userDetails"] = None


def _no_user_details(doc: dict[str, Any]) -> None:
    del _responses(doc)[0]["userDetails"]


def _null_scores(doc: dict[str, Any]) -> None:
    _responses(doc)[1]["userDetails"]["userScores"] = None


def _number_answer(doc: dict[str, Any]) -> None:
    _responses(doc)[0]["votedFor"] = 5


def _text_score(doc: dict[str, Any]) -> None:
    _responses(doc)[2]["userDetails"]["userScores"]["global"] = "0.5"


def _other_answer_field(doc: dict[str, Any]) -> None:
    _responses(doc)[0]["selectedCategory"] = ["a"]


def _null_response(doc: dict[str, Any]) -> None:
    doc["results"][1]["detailedResults"][0] = None


def _no_responses_key(doc: dict[str, Any]) -> None:
    del doc["results"][0]["detailedResults"]


def _bad_datapoint(doc: dict[str, Any]) -> None:
    doc["results"][1]["winner_index"] = "one"


def _old_version(doc: dict[str, Any]) -> None:
    doc["info"]["version"] = "2.0.0"


# Documents the pyarrow way must leave to the plain way: valid ones read the same, invalid ones
# fail with the plain way's message.
PLAIN_DOCUMENTS = {
    "response-without-user-details": (_no_user_details, None),
    "user-details-null": (_null_user_details, "malformed Compare results"),
    "user-scores-null": (_null_scores, "malformed Compare results"),
    "answer-a-number": (_number_answer, "malformed Compare results"),
    "score-as-text": (_text_score, "malformed Compare results"),
    "other-answer-field-wrong": (_other_answer_field, "malformed Compare results"),
    "response-null": (_null_response, "malformed Compare results"),
    "item-without-responses": (_no_responses_key, None),
    "datapoint-field-wrong": (_bad_datapoint, "malformed Compare results"),
    "older-version": (_old_version, "unsupported results version"),
}


@pytest.mark.parametrize("name", PLAIN_DOCUMENTS)
def test_the_plain_way_decides_what_pyarrow_cannot_vouch_for(name: str) -> None:
    edit, error = PLAIN_DOCUMENTS[name]
    raw = _edited("compare", edit)
    if error is not None:
        with pytest.raises(ValueError, match=error):
            decode_document(raw, arrow=False)
        with pytest.raises(ValueError, match=error):
            decode_document(raw, arrow=True)
        return
    plain = decode_document(raw, arrow=False)
    fast = decode_document(raw, arrow=True)
    assert fast._frames is None
    for split_details in (False, True):
        expected = plain.to_polars(split_details=split_details)
        assert fast.to_polars(split_details=split_details).equals(expected)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"[1, 2]", DOCUMENTS["compare"][:-1], DOCUMENTS["compare"] + b" {}"],
)
def test_broken_documents_fail_alike(raw: bytes) -> None:
    with pytest.raises(ValueError) as plain:
        decode_document(raw, arrow=False)
    with pytest.raises(ValueError) as fast:
        decode_document(raw, arrow=True)
    assert str(fast.value) == str(plain.value)


def test_large_documents_take_the_pyarrow_way_when_it_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = DOCUMENTS["compare"]
    assert decode_document(raw)._frames is None  # small: not worth the reader
    monkeypatch.setattr(_types, "ARROW_MIN_BYTES", len(raw))
    assert decode_document(raw)._frames is not None
    assert JobResults.from_bytes(raw)._frames is not None


def test_without_pyarrow_the_plain_way_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = DOCUMENTS["compare"]
    expected = decode_document(raw, arrow=False).to_polars(split_details=True)
    monkeypatch.setattr(_types, "ARROW_MIN_BYTES", 0)
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails
    for arrow in (None, True):
        results = decode_document(raw, arrow=arrow)
        assert results._frames is None
        assert results.to_polars(split_details=True).equals(expected)


def test_job_results_is_immutable_and_pickles() -> None:
    for arrow in (False, True):
        results = decode_document(DOCUMENTS["compare"], arrow=arrow)
        with pytest.raises(AttributeError):
            results.summary = None  # type: ignore[misc]
        again = pickle.loads(pickle.dumps(results))
        assert again == results and copy.copy(results) == results
        assert again.to_polars(split_details=True).equals(results.to_polars(split_details=True))
    built = JobResults(info=results.info, results=results.results, summary=results.summary)
    assert pickle.loads(pickle.dumps(built)) == built


def test_importing_the_package_imports_neither_polars_nor_pyarrow() -> None:
    code = (
        "import sys, rapidata_async, rapidata_async.results; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'polars', 'pyarrow', 'pandas'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
