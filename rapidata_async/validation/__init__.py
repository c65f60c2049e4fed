"""``client.validation``: validation sets, tasks with a known answer that a job mixes in among
its real tasks to measure each labeler (legacy order API, still in the official 3.27.1 SDK)."""

from ._manager import ValidationSetManager
from ._set import RapidataValidationSet

__all__ = ["RapidataValidationSet", "ValidationSetManager"]
