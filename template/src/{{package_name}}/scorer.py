"""The champion model on the service's hot path: the booster's trees, compiled.

The model is the XGBoost booster that training logged to MLflow. XGBoost spends a couple of hundred
microseconds on every prediction call whatever the number of rows (it rebuilds its view of the trees each
time), ONNX Runtime tens: either is more than everything else a request costs. So, once at start-up, the
trees are laid out as complete binary trees in flat arrays (a leaf above the last level fills every slot
below it) and compiled by numba into one function of the feature matrix, with the arrays as constants: a
record costs a few microseconds and each further row about one (bench/RESULTS.md). Its answers are checked
against XGBoost's own on records drawn from the whole range of the request schema, and a model it cannot
reproduce stops the service instead of scoring differently.
"""

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mlflow
import msgspec
import numba
import numpy as np
import xgboost as xgb

from . import features
from .schema import FEATURES

OBJECTIVE = "binary:logistic"
BOOSTER = "gbtree"
# Both compare float32 inputs with float32 thresholds; only the sum over trees is rounded differently.
MAX_DIFFERENCE = 1e-5
# What the service answers: the sums over trees already differ from XGBoost's in the seventh digit.
PROBABILITY_DIGITS = 6
PROBE_RECORDS = 2000
# Of which scored one at a time too, as the service scores a request of one record.
PROBE_ONE_BY_ONE = 100
# A complete tree of this depth has 1,024 leaves: deeper trees would make arrays, and a compilation, that
# grow twice as large with every level.
MAX_DEPTH = 10


class ModelMismatch(RuntimeError):
    """The model cannot be served as it was trained: other features, another objective or booster, trees
    too deep, or compiled answers that differ from XGBoost's."""


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


@dataclass(frozen=True)
class Trees:
    """Every tree as a complete binary tree of `depth` levels: node i has children 2i+1 and 2i+2."""

    depth: int
    feature: np.ndarray  # int32 [trees, 2**depth - 1], input column each node tests
    threshold: np.ndarray  # float32 [trees, 2**depth - 1], right when the input is not below it
    missing_right: np.ndarray  # bool [trees, 2**depth - 1], where a missing input goes
    leaf: np.ndarray  # float64 [trees, 2**depth], leaf value of each path
    base_margin: float


def _depth(tree: dict, node: int = 0) -> int:
    left = tree["left_children"][node]
    if left == -1:
        return 0
    return 1 + max(_depth(tree, left), _depth(tree, tree["right_children"][node]))


def trees(booster: xgb.Booster) -> Trees:
    """The booster's trees, from its JSON model, as complete binary trees."""
    learner = json.loads(booster.save_raw("json"))["learner"]
    if (name := learner["gradient_booster"]["name"]) != BOOSTER:
        raise ModelMismatch(f"the model's booster is {name}; the service compiles {BOOSTER} trees")
    model = learner["gradient_booster"]["model"]
    if any(any(tree.get("split_type", [])) for tree in model["trees"]):
        raise ModelMismatch("the model has categorical splits; the service compiles numeric splits only")
    depth = max((_depth(tree) for tree in model["trees"]), default=0)
    if depth > MAX_DEPTH:
        raise ModelMismatch(
            f"the model's trees are {depth} levels deep; the service compiles at most {MAX_DEPTH}"
        )
    count, inner = len(model["trees"]), 2**depth - 1
    feature = np.zeros((count, inner), np.int32)
    # Below a leaf above the last level, padding nodes test column 0 against +inf, and every slot they can
    # lead to holds the leaf's value.
    threshold = np.full((count, inner), np.inf, np.float32)
    missing_right = np.zeros((count, inner), np.bool_)
    leaf = np.zeros((count, 2**depth), np.float64)
    for index, tree in enumerate(model["trees"]):
        pending = [(0, 0, 0)]  # (node in the booster's tree, slot in the complete one, level)
        while pending:
            node, slot, level = pending.pop()
            left, right = tree["left_children"][node], tree["right_children"][node]
            if left == -1:
                span = 2 ** (depth - level)
                first = (slot - (2**level - 1)) * span
                leaf[index, first : first + span] = tree["split_conditions"][node]
                continue
            feature[index, slot] = tree["split_indices"][node]
            threshold[index, slot] = tree["split_conditions"][node]
            missing_right[index, slot] = not tree["default_left"][node]
            pending += [(left, 2 * slot + 1, level + 1), (right, 2 * slot + 2, level + 1)]
    # The base score is a probability (XGBoost 3 writes it as a vector, "[2.5E-1]"); the trees add log-odds.
    base_score = float(learner["learner_model_param"]["base_score"].strip("[]").split(",")[0])
    return Trees(depth, feature, threshold, missing_right, leaf, math.log(base_score / (1 - base_score)))


def compile_trees(
    model: Trees, inputs: int
) -> tuple[Callable[[tuple[float, ...]], float], Callable[[np.ndarray], np.ndarray]]:
    """Two compiled functions, probabilities rounded to PROBABILITY_DIGITS: of one record's `inputs` (a
    tuple of numbers in features.NAMES order), and of each row of a feature matrix. A tree is `depth` steps
    that pick the next slot by arithmetic, not by branches a processor would mispredict half the time.

    The first is numba's compiled function for that one signature, not the dispatcher in front of it, which
    would type every argument of every call: on one record that costs as much as the trees. It takes the
    tuple it was compiled for, and converts an integer in it as Python's float() would; anything else is a
    TypeError."""
    # Locals, not attributes: numba compiles them into the functions as constants.
    depth, feature, threshold = model.depth, model.feature, model.threshold
    missing_right, leaf, base_margin = model.missing_right, model.leaf, model.base_margin
    digits = PROBABILITY_DIGITS
    count, inner = feature.shape[0], feature.shape[1]

    @numba.njit
    def probability(values: Any) -> float:
        margin = base_margin
        for tree in range(count):
            slot = 0
            for _ in range(depth):
                value = np.float32(values[feature[tree, slot]])
                right = missing_right[tree, slot] if math.isnan(value) else value >= threshold[tree, slot]
                slot = 2 * slot + 1 + right
            margin += leaf[tree, slot - inner]
        return round(1.0 / (1.0 + math.exp(-margin)), digits)

    @numba.njit
    def probabilities(inputs: np.ndarray) -> np.ndarray:
        answers = np.empty(inputs.shape[0])
        for row in range(inputs.shape[0]):
            answers[row] = probability(inputs[row])
        return answers

    one_record = probability.compile((numba.types.UniTuple(numba.types.float64, inputs),))
    return one_record, probabilities


class Model:
    """Probability of default by the compiled trees: `predict` of a feature matrix (features.matrix),
    `probability` of one record's inputs as a tuple (features.row)."""

    def __init__(self, booster: xgb.Booster) -> None:
        objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
        if objective != OBJECTIVE:
            raise ModelMismatch(f"the model's objective is {objective}; the service answers {OBJECTIVE}")
        if booster.feature_names is not None and tuple(booster.feature_names) != features.NAMES:
            raise ModelMismatch(f"the model takes {booster.feature_names}, the code makes {features.NAMES}")
        self.probability, self.predict = compile_trees(trees(booster), len(features.NAMES))
        self._check_against(booster)

    def _check_against(self, booster: xgb.Booster) -> None:
        records = probe_records(PROBE_RECORDS)
        inputs = features.matrix(records)
        expected = booster.inplace_predict(inputs)
        one_by_one = [self.probability(tuple(features.row(record))) for record in records[:PROBE_ONE_BY_ONE]]
        difference = max(
            float(np.abs(self.predict(inputs) - expected).max()),
            float(np.abs(np.array(one_by_one) - expected[:PROBE_ONE_BY_ONE]).max()),
        )
        if difference > MAX_DIFFERENCE:
            raise ModelMismatch(
                f"the compiled trees and XGBoost differ by up to {difference:.2e} on probe records"
            )


def load(uri: str) -> Model:
    return Model(mlflow.xgboost.load_model(uri).get_booster())


def score(model: Model, records: Sequence[Any]) -> list[float]:
    """Probability of default of each record (msgspec structs with the schema's fields, in its order), to
    PROBABILITY_DIGITS. One record, the common request, skips numpy: building and reading a matrix would
    cost more than its trees, and so would filling an array: the inputs go to the compiled function as a
    tuple."""
    if len(records) == 1:
        return [model.probability(tuple(features.row(msgspec.structs.astuple(records[0]))))]
    return model.predict(features.matrix(map(msgspec.structs.astuple, records))).tolist()
