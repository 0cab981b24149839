"""QDREAMER: filter, score and explain resources per task; cache provider reports; fail over."""

from qtau.dreamer.config import PRESETS, DreamerConfig
from qtau.dreamer.core import QDreamer
from qtau.dreamer.explanation import Explanation
from qtau.dreamer.ranking import Row
from qtau.dreamer.runtime_model import RuntimeEstimate, RuntimeModels

__all__ = ["PRESETS", "DreamerConfig", "Explanation", "QDreamer", "Row", "RuntimeEstimate", "RuntimeModels"]
