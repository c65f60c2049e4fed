"""Results document: built by the backend's builder, read back by the SDK's typed results."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from rapidata_async.local._results import (
    ResultItem,
    Vote,
    build_results_document,
    confidence_per_category,
)
from rapidata_async.local.domain import confidence
from rapidata_async.results import (
    ClassificationResult,
    CompareResult,
    JobResults,
    aread_results,
    read_results,
)

DOCS_SCORES = (0.3, 0.8486, 0.4469, 0.4911)


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


def compare_doc(
    items: list[ResultItem], *, early_stopping: bool = False, ids: list[str] | None = None
) -> bytes:
    return build_results_document(
        "Compare", items, early_stopping=early_stopping, index_identifiers=ids
    )


def classification_doc(items: list[ResultItem], *, early_stopping: bool = False) -> bytes:
    return build_results_document(
        "Classification", items, early_stopping=early_stopping, index_identifiers=None
    )


@pytest.fixture
def docs_dog() -> bytes:
    """The docs' confidence-stopping example: four "Dog" votes on dog.jpeg."""
    return classification_doc(
        [
            ResultItem(
                0,
                ["Dog", "Cat"],
                [vote("Dog", s) for s in DOCS_SCORES],
                original_file_name="dog.jpeg",
            )
        ],
        early_stopping=True,
    )


@pytest.fixture
def mixed_compare() -> bytes:
    """Three datapoints out of order: B wins, A wins with Both/Neither votes, nobody votes."""
    return compare_doc(
        [
            ResultItem(
                2,
                ["x.png", "y.png"],
                [],
                context="no votes",
            ),
            ResultItem(
                0,
                ["a.jpg", "b.jpg"],
                [vote("a.jpg", 0.4), vote("b.jpg", 0.61, "US"), vote("b.jpg", 0.2, "BR")],
                context="first",
                asset_urls={"b.jpg": "https://x/b.jpg", "a.jpg": "https://x/a.jpg"},
                private_metadata={"seed": "7"},
            ),
            ResultItem(
                1,
                ["c.jpg", "d.jpg"],
                [vote("c.jpg", 0.9), vote("Both", 0.5), vote("Neither", 0.3), vote("d.jpg", 0.1)],
                context="second",
                context_asset="ctx.png",
            ),
        ],
        early_stopping=True,
    )


# -- confidence -----------------------------------------------------------------------------------
def test_confidence_is_the_referees_and_matches_the_docs() -> None:
    assert confidence_per_category is confidence.confidence_per_category
    got = confidence_per_category([("Dog", s) for s in DOCS_SCORES], ["Dog", "Cat"])
    assert round(got["Dog"], 4) == 0.9943
    assert round(got["Cat"], 4) == 0.0057


# -- the document (backend side) ------------------------------------------------------------------
def test_docs_early_stopping_example(docs_dog: bytes) -> None:
    doc = json.loads(docs_dog)
    assert doc["info"]["type"] == "Classification"
    assert doc["info"]["version"].startswith("3.")
    assert "summary" not in doc
    (item,) = doc["results"]
    assert item["originalFileName"] == "dog.jpeg"
    assert item["aggregatedResults"] == {"Dog": 4, "Cat": 0}
    assert item["aggregatedResultsRatios"] == {"Dog": 1.0, "Cat": 0.0}
    assert item["summedUserScores"] == {"Dog": 2.0866, "Cat": 0.0}
    assert item["summedUserScoresRatios"] == {"Dog": 1.0, "Cat": 0.0}
    assert item["confidencePerCategory"] == {"Dog": 0.9943, "Cat": 0.0057}
    assert [d["selectedCategory"] for d in item["detailedResults"]] == ["Dog"] * 4
    assert [d["userDetails"]["userScores"]["global"] for d in item["detailedResults"]] == list(
        DOCS_SCORES
    )
    assert set(item["detailedResults"][0]["userDetails"]) == {
        "country",
        "language",
        "userScores",
        "age",
        "gender",
        "occupation",
    }


def test_compare_document_shape(mixed_compare: bytes) -> None:
    doc = json.loads(mixed_compare)
    assert doc["info"]["type"] == "Compare"
    assert doc["summary"] == {"A_wins_total": 1, "B_wins_total": 1}
    first, second, third = doc["results"]
    assert [r["context"] for r in doc["results"]] == ["first", "second", "no votes"]

    assert first["winner_index"] == 1 and first["winner"] == "b.jpg"
    assert list(first["aggregatedResults"]) == ["a.jpg", "b.jpg"]  # no Both/Neither keys
    assert first["aggregatedResults"] == {"a.jpg": 1, "b.jpg": 2}
    assert first["aggregatedResultsRatios"] == {"a.jpg": 0.3333, "b.jpg": 0.6667}
    assert first["summedUserScores"] == {"a.jpg": 0.4, "b.jpg": 0.81}
    assert first["summedUserScoresRatios"] == {"a.jpg": 0.3306, "b.jpg": 0.6694}
    assert first["assetUrls"] == {"a.jpg": "https://x/a.jpg", "b.jpg": "https://x/b.jpg"}
    assert list(first["assetUrls"]) == ["a.jpg", "b.jpg"]  # canonical A, B order
    assert first["privateMetadata"] == {"seed": "7"}
    assert "contextAsset" not in first
    assert set(first["confidencePerCategory"]) == {"a.jpg", "b.jpg"}
    assert [d["votedFor"] for d in first["detailedResults"]] == ["a.jpg", "b.jpg", "b.jpg"]

    assert second["contextAsset"] == "ctx.png"
    assert list(second["aggregatedResults"]) == ["c.jpg", "d.jpg", "Both", "Neither"]
    assert second["winner_index"] == 0 and second["winner"] == "c.jpg"
    # Both/Neither are no category: confidence only spans the two assets.
    assert set(second["confidencePerCategory"]) == {"c.jpg", "d.jpg"}

    assert third["winner"] is None and third["winner_index"] is None
    assert third["detailedResults"] == []
    assert third["aggregatedResults"] == {"x.png": 0, "y.png": 0}


def test_scores_are_rounded_and_ties_go_to_the_lower_index() -> None:
    doc = json.loads(
        compare_doc(
            [ResultItem(0, ["a", "b"], [vote("a", 0.123456), vote("b", 0.12346)])],
        )
    )
    (item,) = doc["results"]
    assert item["summedUserScores"] == {"a": 0.1235, "b": 0.1235}
    assert item["detailedResults"][0]["userDetails"]["userScores"]["global"] == 0.1235
    assert item["winner_index"] == 0 and item["winner"] == "a"
    assert "confidencePerCategory" not in item


def test_index_identifiers_replace_asset_names() -> None:
    doc = json.loads(
        compare_doc(
            [
                ResultItem(
                    0,
                    ["flux.png", "mj.png"],
                    [vote("mj.png", 0.8), vote("flux.png", 0.3)],
                    asset_urls={"flux.png": "u-flux", "mj.png": "u-mj"},
                )
            ],
            ids=["Flux", "Midjourney"],
        )
    )
    (item,) = doc["results"]
    assert item["winner"] == "Midjourney" and item["winner_index"] == 1
    assert item["aggregatedResults"] == {"Flux": 1, "Midjourney": 1}
    assert item["assetUrls"] == {"Flux": "u-flux", "Midjourney": "u-mj"}
    assert [d["votedFor"] for d in item["detailedResults"]] == ["Midjourney", "Flux"]


@pytest.mark.parametrize(
    ("kind", "item", "ids", "message"),
    [
        ("Compare", ResultItem(4, ["a", "b"], [vote("c", 0.5)]), None, "result item 4"),
        ("Compare", ResultItem(5, ["a"], []), None, "needs 2 options"),
        ("Compare", ResultItem(0, ["a", "b"], []), ["only-one"], "index_identifiers"),
        ("Classification", ResultItem(6, ["Cat"], [vote("Both", 0.5)]), None, "result item 6"),
        ("Classification", ResultItem(0, ["Cat"], []), ["A", "B"], "only apply to Compare"),
        ("Ranking", ResultItem(0, ["a", "b"], []), None, "kind must be"),
    ],
)
def test_builder_rejects_bad_items(
    kind: Any, item: ResultItem, ids: list[str] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_results_document(kind, [item], early_stopping=False, index_identifiers=ids)


# -- typed results (SDK side) ---------------------------------------------------------------------
def test_decode_compare(mixed_compare: bytes) -> None:
    results = read_results(mixed_compare)
    assert isinstance(results, JobResults)
    assert results.type == "Compare" == results.info.type
    assert results.info.version.startswith("3.")
    assert results.info.created_at is not None and results.info.created_at.tzinfo is not None
    assert results.summary is not None
    assert (results.summary.a_wins_total, results.summary.b_wins_total) == (1, 1)
    assert len(results) == 3 and results.response_count == 7
    first, second, third = results.results
    assert isinstance(first, CompareResult)
    assert first.assets == ("a.jpg", "b.jpg")
    assert first.winner == "b.jpg" and first.winner_index == 1
    assert first.aggregated_results == {"a.jpg": 1, "b.jpg": 2}
    assert first.summed_user_scores_ratios == {"a.jpg": 0.3306, "b.jpg": 0.6694}
    assert first.asset_urls == {"a.jpg": "https://x/a.jpg", "b.jpg": "https://x/b.jpg"}
    assert first.private_metadata == {"seed": "7"}
    response = first.detailed_results[1]
    assert response.voted_for == response.answer == "b.jpg"
    assert response.selected_category is None
    assert response.user_details.country == "US"
    assert response.user_details.user_score == 0.61
    assert isinstance(second, CompareResult) and isinstance(third, CompareResult)
    assert second.context_asset == "ctx.png"
    assert second.assets == ("c.jpg", "d.jpg")  # from the vote map, Both/Neither skipped
    assert third.winner is None and third.detailed_results == ()
    with pytest.raises(AttributeError):
        first.winner = "a.jpg"  # type: ignore[misc]


def test_decode_classification(docs_dog: bytes) -> None:
    results = read_results(docs_dog)
    assert results.type == "Classification" and results.summary is None
    (item,) = results.results
    assert isinstance(item, ClassificationResult)
    assert item.original_file_name == "dog.jpeg"
    assert item.categories == ["Dog", "Cat"]
    assert item.summed_user_scores["Dog"] == 2.0866
    assert item.confidence_per_category == {"Dog": 0.9943, "Cat": 0.0057}
    assert [r.answer for r in item.detailed_results] == ["Dog"] * 4
    assert [r.user_details.user_score for r in item.detailed_results] == list(DOCS_SCORES)


# -- frames ---------------------------------------------------------------------------------------
COMPARE_SCHEMA = {
    "datapoint_index": pl.Int64,
    "context": pl.String,
    "context_asset": pl.String,
    "asset_a": pl.String,
    "asset_b": pl.String,
    "asset_a_url": pl.String,
    "asset_b_url": pl.String,
    "winner": pl.String,
    "winner_index": pl.Int64,
    **{
        f"{x}_{m}": pl.Int64 if m == "votes" else pl.Float64
        for m in ("votes", "votes_ratio", "summed_user_scores", "summed_user_scores_ratio")
        for x in ("A", "B", "Both", "Neither")
    },
    "A_confidence": pl.Float64,
    "B_confidence": pl.Float64,
    "private_metadata_seed": pl.String,
}
RESPONSE_SCHEMA = {
    "user_score": pl.Float64,
    "country": pl.String,
    "language": pl.String,
    "age": pl.String,
    "gender": pl.String,
    "occupation": pl.String,
}


def test_compare_frame(mixed_compare: bytes) -> None:
    frame = read_results(mixed_compare).to_polars()
    assert frame.height == 3
    assert dict(frame.schema) == COMPARE_SCHEMA
    assert frame["asset_a"].to_list() == ["a.jpg", "c.jpg", "x.png"]
    assert frame["winner_index"].to_list() == [1, 0, None]
    assert frame["A_votes"].to_list() == [1, 1, 0]
    assert frame["B_votes"].to_list() == [2, 1, 0]
    assert frame["Both_votes"].to_list() == [0, 1, 0]  # absent key = nobody chose it
    assert frame["Both_votes_ratio"].to_list() == [0.0, 0.25, 0.0]
    assert frame["Neither_summed_user_scores"].to_list() == [0.0, 0.3, 0.0]
    assert frame["B_summed_user_scores"].to_list() == [0.81, 0.1, 0.0]
    assert frame["asset_b_url"].to_list() == ["https://x/b.jpg", None, None]
    assert frame["context_asset"].to_list() == [None, "ctx.png", None]
    assert frame["private_metadata_seed"].to_list() == ["7", None, None]
    confidence = frame.select(pl.col("A_confidence") + pl.col("B_confidence"))
    assert confidence.to_series().round(3).to_list() == [1.0, 1.0, 1.0]


def test_compare_frame_split_details(mixed_compare: bytes) -> None:
    frame = read_results(mixed_compare).to_polars(split_details=True)
    # one row per response; the datapoint without responses has none
    assert frame.height == 7
    assert dict(frame.schema) == {**COMPARE_SCHEMA, "voted_for": pl.String, **RESPONSE_SCHEMA}
    assert frame["datapoint_index"].to_list() == [0, 0, 0, 1, 1, 1, 1]
    assert frame["voted_for"].to_list() == [
        "a.jpg",
        "b.jpg",
        "b.jpg",
        "c.jpg",
        "Both",
        "Neither",
        "d.jpg",
    ]
    assert frame["country"].to_list()[:3] == ["DE", "US", "BR"]
    assert frame["user_score"].to_list()[:3] == [0.4, 0.61, 0.2]
    assert frame["winner"].to_list() == ["b.jpg"] * 3 + ["c.jpg"] * 4


def test_compare_frame_has_only_the_columns_the_document_has() -> None:
    frame = read_results(compare_doc([ResultItem(0, ["a", "b"], [vote("a", 0.5)])])).to_polars()
    assert frame.columns == [
        "datapoint_index",
        "context",
        "asset_a",
        "asset_b",
        "winner",
        "winner_index",
        "A_votes",
        "B_votes",
        "A_votes_ratio",
        "B_votes_ratio",
        "A_summed_user_scores",
        "B_summed_user_scores",
        "A_summed_user_scores_ratio",
        "B_summed_user_scores_ratio",
    ]


def test_classification_frames(docs_dog: bytes) -> None:
    results = read_results(docs_dog)
    frame = results.to_polars()
    assert frame.height == 1
    assert frame.row(0, named=True) == {
        "datapoint_index": 0,
        "original_file_name": "dog.jpeg",
        "context": None,
        "Dog_votes": 4,
        "Dog_votes_ratio": 1.0,
        "Dog_summed_user_scores": 2.0866,
        "Dog_summed_user_scores_ratio": 1.0,
        "Dog_confidence": 0.9943,
        "Cat_votes": 0,
        "Cat_votes_ratio": 0.0,
        "Cat_summed_user_scores": 0.0,
        "Cat_summed_user_scores_ratio": 0.0,
        "Cat_confidence": 0.0057,
    }
    assert frame.schema["Dog_votes"] == pl.Int64
    split = results.to_polars(split_details=True)
    assert split.height == 4
    assert split["selected_category"].to_list() == ["Dog"] * 4
    assert split["user_score"].to_list() == list(DOCS_SCORES)
    assert {name: split.schema[name] for name in RESPONSE_SCHEMA} == RESPONSE_SCHEMA


def test_to_pandas(mixed_compare: bytes) -> None:
    pytest.importorskip("pandas", reason="optional extra: pandas")
    results = read_results(mixed_compare)
    df = results.to_pandas()
    assert list(df.columns) == list(COMPARE_SCHEMA)
    assert df.shape == (3, len(COMPARE_SCHEMA))
    assert df["A_votes"].tolist() == [1, 1, 0]
    split = results.to_pandas(split_details=True)
    assert split.shape[0] == 7
    assert split["voted_for"].tolist()[0] == "a.jpg"


def test_to_pandas_without_pandas_names_the_extra(
    mixed_compare: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"rapidata-async\[pandas\]"):
        read_results(mixed_compare).to_pandas()


# -- serialisation and reading --------------------------------------------------------------------
async def test_to_json_round_trip(mixed_compare: bytes, tmp_path: Path) -> None:
    results = read_results(mixed_compare)
    assert results.to_json_bytes() == mixed_compare
    path = tmp_path / "results.json"
    await results.to_json(path)
    assert path.read_bytes() == mixed_compare
    assert read_results(path) == results
    assert read_results(str(path)) == results
    assert await aread_results(path) == results


def test_to_json_bytes_without_original_bytes(mixed_compare: bytes) -> None:
    results = read_results(mixed_compare)
    rebuilt = JobResults(info=results.info, results=results.results, summary=results.summary)
    assert rebuilt == results
    again = read_results(rebuilt.to_json_bytes())
    assert again.results == results.results
    assert again.summary == results.summary
    assert again.info == results.info


def test_repr_and_str(mixed_compare: bytes) -> None:
    results = read_results(mixed_compare)
    assert repr(results).startswith("JobResults(type='Compare', datapoints=3, responses=7")
    text = str(results)
    assert "A wins: 1, B wins: 1" in text
    assert "asset_a" in text and "shape: (3," in text


def _document(info: dict[str, Any], results: Any) -> bytes:
    return json.dumps({"info": info, "results": results}).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "not a Rapidata results document"),
        (_document({"version": "3.0.0", "type": "Ranking"}, []), "unsupported results type"),
        (_document({"version": "2.1.0", "type": "Compare"}, []), "unsupported results version"),
        (_document({"type": "Compare"}, []), "unsupported results version"),
        (
            _document({"version": "3.0.0"}, {"globalAggregatedData": {}, "data": []}),
            "must be a list",
        ),
        (
            _document({"version": "3.0.0", "type": "Compare"}, [{"winner_index": "x"}]),
            "malformed Compare results",
        ),
        (b'{"results": []}', "'info' or 'results' is missing"),
    ],
)
def test_read_results_rejects(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_results(data)


def test_read_results_accepts_older_info_shapes(docs_dog: bytes) -> None:
    doc = json.loads(docs_dog)
    doc["info"]["orderType"] = doc["info"].pop("type")
    older = read_results(json.dumps(doc).encode())
    assert older.type == "Classification"
    assert older.results == read_results(docs_dog).results

    # The docs' compare sample has no type at all: recognised by its items.
    del doc["info"]["orderType"]
    assert read_results(json.dumps(doc).encode()).type == "Classification"
    sample = {
        "info": {"createdAt": "2025-02-11T07:31:59.353232+00:00", "version": "3.0.0"},
        "summary": {"A_wins_total": 0, "B_wins_total": 1},
        "results": [
            {
                "context": "A small blue book sitting on a large red book.",
                "winner_index": 1,
                "winner": "dalle-3_37_2.jpg",
                "aggregatedResults": {"aurora-20-1-25_37_4.png": 0, "dalle-3_37_2.jpg": 3},
                "detailedResults": [],
            }
        ],
    }
    decoded = read_results(json.dumps(sample).encode())
    assert decoded.type == "Compare"
    assert decoded.summary is not None and decoded.summary.b_wins_total == 1
    assert decoded.to_polars()["asset_b"].to_list() == ["dalle-3_37_2.jpg"]


# -- interop: the official client reads our document ----------------------------------------------
def test_official_client_reads_our_compare_document(mixed_compare: bytes) -> None:
    rapidata = pytest.importorskip("rapidata", reason="optional extra: dev (the official client)")
    pytest.importorskip("pandas", reason="optional extra: pandas")
    official = rapidata.RapidataResults(json.loads(mixed_compare))
    flat = official.to_pandas()
    assert flat.shape[0] == 3
    assert flat["assetA"].tolist() == ["a.jpg", "c.jpg", "x.png"]
    assert flat["B_aggregatedResults"].tolist() == [2, 1, 0]
    ours = read_results(mixed_compare).to_pandas()
    assert flat["A_summedUserScores"].tolist() == ours["A_summed_user_scores"].tolist()
    assert flat["winner"].tolist()[:2] == ours["winner"].tolist()[:2]
    split = official.to_pandas(split_details=True)
    assert split["votedFor"].tolist()[:3] == ["a.jpg", "b.jpg", "b.jpg"]
    assert split["userDetails_userScores_global"].tolist()[:3] == [0.4, 0.61, 0.2]


def test_official_client_reads_our_classification_document(docs_dog: bytes) -> None:
    rapidata = pytest.importorskip("rapidata", reason="optional extra: dev (the official client)")
    pytest.importorskip("pandas", reason="optional extra: pandas")
    official = rapidata.RapidataResults(json.loads(docs_dog))
    flat = official.to_pandas()
    assert flat["option"].tolist() == ["Dog", "Cat"]
    assert flat["count"].tolist() == [4, 0]
    assert flat["confidence"].tolist() == [0.9943, 0.0057]
    split = official.to_pandas(split_details=True)
    assert split["selectedCategory"].tolist() == ["Dog"] * 4


def test_frames_fill_options_a_document_leaves_out_with_zero() -> None:
    # A server may omit an option nobody chose from the vote maps; the frame shows 0 for it.
    maps = ("aggregatedResults", "aggregatedResultsRatios", "summedUserScores")
    maps += ("summedUserScoresRatios",)
    urls = {"a.jpg": "https://x/a.jpg", "b.jpg": "https://x/b.jpg"}
    items = [
        ResultItem(i, ["a.jpg", "b.jpg"], [vote(winner, 0.5)], asset_urls=urls)
        for i, winner in enumerate(["b.jpg", "a.jpg"])
    ]
    doc = json.loads(compare_doc(items))
    for item, absent in zip(doc["results"], ["a.jpg", "b.jpg"], strict=True):
        for key in maps:
            del item[key][absent]
    frame = read_results(json.dumps(doc).encode()).to_polars()
    for suffix in ("votes", "votes_ratio", "summed_user_scores", "summed_user_scores_ratio"):
        assert frame[f"A_{suffix}"].to_list()[0] == 0, suffix
        assert frame[f"B_{suffix}"].to_list()[1] == 0, suffix
    assert frame["B_votes"].to_list()[0] == frame["A_votes"].to_list()[1] == 1

    two = classification_doc([ResultItem(i, ["Cat", "Dog"], [vote("Dog", 0.5)]) for i in range(2)])
    doc = json.loads(two)
    for key in maps:
        del doc["results"][1][key]["Cat"]
    frame = read_results(json.dumps(doc).encode()).to_polars()
    for suffix in ("votes", "votes_ratio", "summed_user_scores", "summed_user_scores_ratio"):
        assert frame[f"Cat_{suffix}"].to_list() == [0, 0], suffix
    assert frame["Dog_votes"].to_list() == [1, 1]
