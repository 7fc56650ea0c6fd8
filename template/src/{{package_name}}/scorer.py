"""The champion model on the service's hot path, and the coalescing of concurrent requests into one call.

The model is the XGBoost booster that training logged to MLflow. XGBoost spends a fixed couple of hundred
microseconds on every prediction call, whatever the number of rows (it rebuilds its view of the trees
each time), which would cap the service far below what the HTTP stack can do. So, once at start-up, the
booster is converted to ONNX and served by ONNX Runtime (tens of microseconds for a few rows), after its
answers are checked against XGBoost's own on records drawn from the schema: a model that does not convert
faithfully stops the service instead of scoring differently. ONNX Runtime's tree ensemble costs more per
row, though, so calls of XGBOOST_FROM_ROWS rows or more go to XGBoost itself. `make bench` times both
(bench/RESULTS.md).

Requests that wait in the same turn of the event loop are scored in one call.
"""

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import mlflow
import msgspec
import numpy as np
import onnxruntime
import xgboost as xgb
from onnxmltools import convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

from . import features
from .metrics import Metrics
from .schema import FEATURES

OBJECTIVE = "binary:logistic"
# The converter's newest opset for ai.onnx (the tree ensemble itself is in ai.onnx.ml).
ONNX_OPSET = 15
INPUT = "features"
OUTPUT = "probabilities"
# Both compare float32 inputs with float32 thresholds; only the sum over trees is rounded differently.
MAX_DIFFERENCE = 1e-5
PROBE_RECORDS = 2000
# Where XGBoost's fixed cost per call is paid back by its lower cost per row (bench/RESULTS.md: about
# 5-8 us a row for ONNX Runtime, 2-3 us for XGBoost on one thread after its ~200 us per call).
XGBOOST_FROM_ROWS = 64


class ModelMismatch(RuntimeError):
    """The model cannot be served as it was trained: other features, another objective, or a conversion
    whose answers differ from XGBoost's."""


def probe_records(count: int, seed: int = 0) -> list[tuple]:
    """Records spread over the whole range the request schema accepts, values in FEATURE_NAMES order."""
    generator = np.random.default_rng(seed)
    columns = []
    for column in FEATURES:
        if column.categories:
            columns.append(generator.choice(np.array(column.categories, dtype=object), count).tolist())
        else:
            values = generator.uniform(column.minimum, column.maximum, count)
            columns.append((np.round(values) if column.dtype is int else values).tolist())
    return list(zip(*columns, strict=True))


class Model:
    """Probability of default from a feature matrix (features.matrix), on one thread: ONNX Runtime for
    calls of a few rows, XGBoost for larger ones."""

    def __init__(self, booster: xgb.Booster) -> None:
        objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
        if objective != OBJECTIVE:
            raise ModelMismatch(f"the model's objective is {objective}; the service answers {OBJECTIVE}")
        if booster.feature_names is not None and tuple(booster.feature_names) != features.NAMES:
            raise ModelMismatch(f"the model takes {booster.feature_names}, the code makes {features.NAMES}")
        # The converter knows features by position (f0, f1, ...), not by name.
        unnamed = booster.copy()
        unnamed.feature_names = None
        graph = convert_xgboost(
            unnamed,
            initial_types=[(INPUT, FloatTensorType([None, len(features.NAMES)]))],
            target_opset=ONNX_OPSET,
        )
        options = onnxruntime.SessionOptions()
        # One worker process per core: threads inside a call would only contend with the other workers.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        self.booster = booster.copy()
        self.booster.set_param({"nthread": 1})
        self._check_against(self.booster)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        if len(inputs) >= XGBOOST_FROM_ROWS:
            return self.booster.inplace_predict(inputs)
        return self.predict_onnx(inputs)

    def predict_onnx(self, inputs: np.ndarray) -> np.ndarray:
        (probabilities,) = self.session.run([OUTPUT], {INPUT: inputs.astype(np.float32)})
        return probabilities[:, 1]

    def _check_against(self, booster: xgb.Booster) -> None:
        inputs = features.matrix(probe_records(PROBE_RECORDS))
        difference = float(np.abs(self.predict_onnx(inputs) - booster.inplace_predict(inputs)).max())
        if difference > MAX_DIFFERENCE:
            raise ModelMismatch(f"ONNX Runtime and XGBoost differ by up to {difference:.2e} on probe records")


def load(uri: str) -> Model:
    return Model(mlflow.xgboost.load_model(uri).get_booster())


def predict(model: Model, records: Sequence[Any]) -> np.ndarray:
    """Probability of default of each record (msgspec structs with the schema's fields, in its order)."""
    return model.predict(features.matrix(map(msgspec.structs.astuple, records)))


class Scorer:
    """Coalesces concurrent requests into one model call and answers each with its own slice."""

    def __init__(self, model: Model, metrics: Metrics) -> None:
        self.model = model
        self.metrics = metrics
        self._waiting: list[tuple[Sequence[Any], asyncio.Future[np.ndarray]]] = []

    def score(self, records: Sequence[Any]) -> asyncio.Future[np.ndarray]:
        """The probabilities of `records`, once the next model call is done."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._waiting.append((records, future))
        if len(self._waiting) == 1:
            # Two turns of the loop: requests whose bytes arrive in this turn's poll start their tasks in
            # the next one, and join before the flush.
            loop.call_soon(loop.call_soon, self._flush)
        return future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        try:
            probabilities = predict(self.model, [record for records, _ in waiting for record in records])
        except Exception as error:  # every waiting request hears of it; none hangs
            for _, future in waiting:
                if not future.done():
                    future.set_exception(error)
            return
        self.metrics.records.inc(len(probabilities))
        self.metrics.probability.observe_many(probabilities)
        start = 0
        for records, future in waiting:
            if not future.done():
                future.set_result(probabilities[start : start + len(records)])
            start += len(records)
