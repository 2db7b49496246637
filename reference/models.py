"""The registry: the `model = "..."` of an assignment file -> the reference model that computes it."""

from __future__ import annotations

from .lecture import LINEAR, QUADRATIC
from .model import Model
from .net222 import MODEL as NET222
from .net222_bias import MODEL as NET222_BIAS

MODELS: dict[str, Model] = {m.id: m for m in (NET222, NET222_BIAS, LINEAR, QUADRATIC)}
