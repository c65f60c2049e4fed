"""Ranking flows: a standing ranking task, fed batches of datapoints (``client.flow``).

flow = await client.flow.create_ranking_flow("Image quality", "Which image looks better?")
item = await flow.create_new_flow_batch(["a.jpg", "b.jpg", "c.jpg"])
results = await item.get_results()          # FlowItemResult, best first
print(results.to_polars())
"""

from ._flow import RankingFlow, RankingFlowConfig
from ._item import FlowItem
from ._manager import FlowManager
from ._results import FlowItemResult, RankedDatapoint

__all__ = [
    "FlowItem",
    "FlowItemResult",
    "FlowManager",
    "RankedDatapoint",
    "RankingFlow",
    "RankingFlowConfig",
]
