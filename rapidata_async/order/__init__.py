"""Legacy orders (``client.order``, the API of SDK 3.20.1) and their selections."""

from ._manager import OrderManager
from ._order import OrderProgress, RapidataOrder
from ._selections import (
    CappedSelection,
    LabelingSelection,
    RapidataSelection,
    ShufflingSelection,
    ValidationSelection,
)

__all__ = [
    "CappedSelection",
    "LabelingSelection",
    "OrderManager",
    "OrderProgress",
    "RapidataOrder",
    "RapidataSelection",
    "ShufflingSelection",
    "ValidationSelection",
]
