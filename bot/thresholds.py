"""The answer and choice thresholds chosen on validation data for each bundled model."""

from __future__ import annotations

from core.compose import Thresholds
from core.embedding import BUNDLED_MODELS, DUAL, E5_SMALL, MINILM

DEFAULT_THRESHOLDS: dict[tuple[str, bool], tuple[float, float, float]] = {
    (DUAL, False): (0.48, 0.43, 0.02),
    (DUAL, True): (0.48, 0.43, 0.02),
    (MINILM, False): (0.64, 0.59, 0.02),
    (MINILM, True): (0.595, 0.545, 0.02),
    (E5_SMALL, False): (0.92, 0.91, 0.005),
}
"""(model, int8) -> answer threshold, choice threshold and answer margin, chosen on CLINC150
val (bench/RESULTS.md); the two models together: what calibration chose for the sample
knowledge base (bench/QUALITY.md), used until a knowledge base calibrates its own. A local
model folder gets MiniLM's. E5's cosines sit higher and about
five times closer together, so its margin and its gap to the choices are smaller too."""

DEFAULT_LANGUAGE_THRESHOLDS: dict[str, dict[str, float]] = {
    DUAL: {"zh": 0.32, "ms": 0.40, "ta": 0.38},
}
"""model -> answer thresholds for questions searched in another language, used until the
knowledge base calibrates its own (core.calibration); choices keep the same distance below."""


def default_thresholds(model: str, int8: bool = False) -> Thresholds:
    """The thresholds chosen on validation data for a model (a local folder gets MiniLM's)."""
    known = model if model in BUNDLED_MODELS else MINILM
    answer, choice, margin = DEFAULT_THRESHOLDS[(known, int8 and known != E5_SMALL)]
    gap = answer - choice
    languages = DEFAULT_LANGUAGE_THRESHOLDS.get(known, {})
    by_language = {code: (value, value - gap) for code, value in languages.items()}
    return Thresholds(answer, choice, margin, by_language=by_language)
