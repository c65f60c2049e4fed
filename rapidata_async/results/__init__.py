"""Job results: typed, frozen Structs decoded straight from the results document, with
``to_polars`` / ``to_pandas`` / ``to_json``.

    results = await job.get_results()          # JobResults
    df = results.to_polars()                   # one row per datapoint
    per_response = results.to_polars(split_details=True)
    await results.to_json("results.json")
    again = read_results("results.json")
"""

from ._types import (
    ClassificationResult,
    CompareResult,
    CompareSummary,
    DetailedResponse,
    JobResults,
    ResultsInfo,
    UserDetails,
    UserScores,
    aread_results,
    read_results,
)

__all__ = [
    "ClassificationResult",
    "CompareResult",
    "CompareSummary",
    "DetailedResponse",
    "JobResults",
    "ResultsInfo",
    "UserDetails",
    "UserScores",
    "aread_results",
    "read_results",
]
