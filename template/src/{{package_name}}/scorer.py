"""The model behind the service: the compiled trees where the registered model has them, otherwise the
registered pyfunc itself. Both take records as their values in FEATURE_NAMES order and answer rounded
probabilities of default; tests/test_scorers.py checks that they agree with the model's own predictions.

The choice is made once, at start, and logged. SCORER=auto (the default) takes the compiled trees when the
model folder has a library that loads (built and verified at training or at the image build), the pyfunc
otherwise; SCORER=compiled insists on the trees, SCORER=generic on the pyfunc. Only the pyfunc needs
MLflow, pandas and the model's own libraries: the compiled path starts without them.
"""

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import compiled
from .schema import DECISIONS, FEATURE_NAMES
from .settings import DECISION_THRESHOLD

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


def decision(probability: float) -> str:
    """What a probability means for the applicant: DECISIONS[0] below the threshold, else DECISIONS[1]."""
    return DECISIONS[probability >= DECISION_THRESHOLD]


class Scorer(Protocol):
    name: str

    def probabilities(self, records: Sequence[Sequence]) -> list[float]: ...


class CompiledScorer:
    name = "compiled"

    def __init__(self, trees: compiled.Trees) -> None:
        self.trees = trees
        self.probabilities = trees.probabilities


class GenericScorer:
    """The registered model as MLflow's pyfunc: any model the project may register."""

    name = "generic"

    def __init__(self, model_dir: Path) -> None:
        import mlflow

        self.model = mlflow.pyfunc.load_model(str(model_dir))

    def probabilities(self, records: Sequence[Sequence]) -> list[float]:
        import pandas as pd

        frame = pd.DataFrame([record[: len(FEATURE_NAMES)] for record in records], columns=FEATURE_NAMES)
        answers = self.model.predict(frame)
        return [round(float(value), compiled.PROBABILITY_DIGITS) for value in list(answers)]


def of_frame(scorer: Scorer, records: "pd.DataFrame") -> list[float]:
    """The scorer's probabilities of a table of records (the latency gate times the served path)."""
    return scorer.probabilities(list(records[list(FEATURE_NAMES)].itertuples(index=False, name=None)))


def local_folder(model_uri: str) -> Path:
    """A model folder on disk: the image's, as it is; any other MLflow URI (models:/..., runs:/...) is
    downloaded first, which needs MLflow."""
    path = Path(model_uri)
    if path.is_dir():
        return path
    import mlflow

    return Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri))


def load(model_uri: str, choice: str = "auto") -> Scorer:
    """`choice`: settings.SCORERS."""
    folder = local_folder(model_uri)
    library = compiled.folder(folder) / compiled.LIBRARY
    if choice != "generic":
        try:
            scorer = CompiledScorer(compiled.Trees(library))
        except compiled.ModelMismatch as reason:
            if choice == "compiled":
                raise
            log.info("scorer: generic (the MLflow pyfunc) for %s: no compiled trees (%s)", model_uri, reason)
        else:
            log.info("scorer: compiled trees %s for %s", library, model_uri)
            return scorer
    else:
        log.info("scorer: generic (the MLflow pyfunc) for %s, as SCORER asks", model_uri)
    return GenericScorer(folder)
