"""Where XGBoost trains: CUDA when GPU training was chosen and a GPU answers, the CPU otherwise."""

import logging
import warnings

import numpy as np
import xgboost as xgb

log = logging.getLogger(__name__)


def cuda_available() -> bool:
    """XGBoost falls back to the CPU with a warning when it sees no GPU, so probe and listen for it."""
    if not xgb.build_info().get("USE_CUDA"):
        return False
    probe = np.array([[0.0], [1.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            xgb.XGBClassifier(n_estimators=1, device="cuda").fit(probe, [0, 1])
        except xgb.core.XGBoostError:
            return False
    return not any("GPU" in str(warning.message) for warning in caught)


def training_device(gpu_requested: bool) -> str:
    if not gpu_requested:
        log.info("training on the CPU (GPU training not chosen)")
        return "cpu"
    if cuda_available():
        log.info("training on CUDA")
        return "cuda"
    log.warning("GPU training chosen but no CUDA device answers: training on the CPU")
    return "cpu"
