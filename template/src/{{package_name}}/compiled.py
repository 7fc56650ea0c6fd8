"""The fast path for tree ensembles: the model's trees as C code, compiled into a shared library, called
through ctypes. Derived from the registered model ahead of time (tree_code.py at training; `build` here at
training and at every image build) and verified there against the model's own predictions, never at
start: loading costs a `dlopen` and no import of MLflow, XGBoost, pandas or numpy.

The model's `compiled` artifact (ARTIFACT, in the MLflow folder's artifacts/) holds:
  main.c header.h recipe.json   TL2cgen's C code of the trees (https://tl2cgen.readthedocs.io)
  probe.json                    records spread over the request schema, and the probabilities that the
                                registered model itself (its pyfunc) answered for them at training
  predictor.so                  built from the C code by `python -m <package>.compiled build <model dir>`

The library's interface is the one TL2cgen generates in header.h: `predict(union Entry* row, int
pred_margin, float* result)` plus getters of the model's shape, and BATCH_CODE's BATCH_FUNCTION, compiled
with it: one call through ctypes costs more than a row's trees, so a request's rows go in one call. A
`union Entry` holds an `int missing` (-1 for a missing value) or a `float fvalue`, 4 bytes either way; the
features of a validated record are never missing, so rows are passed as one C float array, bit for bit
the entries TL2cgen reads.
"""

import argparse
import ctypes
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from . import features

log = logging.getLogger(__name__)

# The artifact's name, and the folder's: MLflow copies an artifact folder under its own name.
ARTIFACT = "compiled"
LIBRARY = "predictor.so"
PROBE = "probe.json"
SOURCES = "recipe.json"
# The answers, like XGBoost's, are float32 sums over trees in another order: they agree to about 3e-7.
MAX_DIFFERENCE = 1e-5
# What the service answers: float32 sums differ from the model's own past the sixth decimal.
PROBABILITY_DIGITS = 6
# TL2cgen's own GCC recipe (tl2cgen/contrib/gcc.py): -O3, position-independent, C99, libm for exp().
COMPILER = "gcc"
COMPILE_FLAGS = ("-O3", "-fPIC", "-std=c99", "-shared")
# A folder of libraries built before, by the digest of what built them (sources, flags, compiler), as
# ccache keeps objects: the same trees are compiled once, however many models carry them. Unset (the image
# build), every build compiles.
CACHE_VARIABLE = "COMPILED_CACHE_DIR"
# The service's loop over a request's rows, compiled into every library beside TL2cgen's code (the model's
# artifact holds the trees only: a library built from an older artifact gets it all the same). TL2cgen's
# `predict` adds the trees to what `result` holds, so each sum starts at zero. Each probability leaves as a
# double rounded to PROBABILITY_DIGITS in C: a float32 times 10**6 is exact in a double (24 + 14 bits; up to
# 10**12 it would be), so `rint` (half to even) of it over 10**6 is, bit for bit, Python's `round(p, 6)` of
# the same float, which costs more than the trees of one record. The loop's name is its interface (float32
# rows in, rounded doubles out): a library built with another loop lacks it and is refused, never read with
# the wrong type.
BATCH_SOURCE = "batch.c"
BATCH_FUNCTION = "predict_rounded"
# A template without braces of its own: C has them, and a stamped project keeps none of Jinja's.
BATCH_CODE = Template("""#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "header.h"

void ${function}(const float* rows, int32_t count, int32_t width, double* results) {
  for (int32_t i = 0; i < count; ++i) {
    float sum = 0.0f;
    predict((union Entry*)(rows + (size_t)i * width), 0, &sum);
    results[i] = rint((double)sum * 1e${digits}) / 1e${digits};
  }
}
""").substitute(function=BATCH_FUNCTION, digits=PROBABILITY_DIGITS)


class ModelMismatch(RuntimeError):
    """The compiled trees cannot stand in for the model: another shape, or other answers."""


@dataclass(frozen=True)
class Probe:
    records: list[list]  # values in FEATURE_NAMES order
    probabilities: list[float]  # the registered model's own answers for them

    @classmethod
    def read(cls, folder: Path) -> "Probe":
        content = json.loads((folder / PROBE).read_text())
        return cls(content["records"], content["probabilities"])

    def write(self, folder: Path) -> None:
        content = {"records": self.records, "probabilities": self.probabilities}
        (folder / PROBE).write_text(json.dumps(content) + "\n")


class Trees:
    """Probability of default by the compiled library, one record at a time or many."""

    def __init__(self, library: Path) -> None:
        self.path = library
        # PyDLL keeps the interpreter lock through the call: a call of microseconds gains nothing from
        # releasing it, and each release would let the worker's exporter threads hold it for up to the
        # switch interval (5 ms) while the request waits.
        self._library = ctypes.PyDLL(str(library))
        self._check_shape()
        self._width = len(features.NAMES)
        try:
            self._predict = getattr(self._library, BATCH_FUNCTION)
        except AttributeError:
            raise ModelMismatch(
                f"{library}: built without {BATCH_FUNCTION} (by an older version of this module): build it "
                f"again with `python -m {__package__}.compiled build <model folder>`"
            ) from None
        # Addresses of array buffers: building a ctypes array of each row would cost more than its trees.
        self._predict.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p]
        self._predict.restype = None

    def _check_shape(self) -> None:
        library = self._library
        library.get_num_feature.restype = ctypes.c_int32
        library.get_num_target.restype = ctypes.c_int32
        library.get_threshold_type.restype = ctypes.c_char_p
        library.get_leaf_output_type.restype = ctypes.c_char_p
        classes = ctypes.c_int32()
        library.get_num_class(ctypes.byref(classes))
        shape = {
            "features": library.get_num_feature(),
            "targets": library.get_num_target(),
            "classes": classes.value,
            "threshold type": library.get_threshold_type().decode(),
            "output type": library.get_leaf_output_type().decode(),
        }
        expected = {
            "features": len(features.NAMES),
            "targets": 1,
            "classes": 1,
            "threshold type": "float32",
            "output type": "float32",
        }
        if shape != expected:
            raise ModelMismatch(f"{self.path}: the library's model is {shape}, the service needs {expected}")

    def of_inputs(self, rows: Iterable[Sequence[float]]) -> list[float]:
        """Of rows of model inputs (features.row), in one call, rounded to PROBABILITY_DIGITS."""
        flat: list[float] = []
        for row in rows:
            flat += row
        # One conversion to float32 a request: an array's `extend` a row costs half as much again.
        return self._predicted(array("f", flat))

    def _predicted(self, inputs: array) -> list[float]:
        count = len(inputs) // self._width
        results = array("d", bytes(8 * count))
        self._predict(inputs.buffer_info()[0], count, self._width, results.buffer_info()[0])
        return results.tolist()

    def probabilities(self, records: Sequence[Sequence]) -> list[float]:
        """Of records given as their values in FEATURE_NAMES order (later values are ignored)."""
        if len(records) == 1:  # the common request, without the rows' flattening
            return self._predicted(array("f", features.row(records[0])))
        return self.of_inputs(map(features.row, records))


def folder(model: Path) -> Path:
    """Where an MLflow model folder keeps the compiled artifact."""
    return model / "artifacts" / ARTIFACT


def verify(trees: Trees, probe: Probe) -> float:
    """The largest difference from the model's own answers on the probe records; ModelMismatch past
    MAX_DIFFERENCE."""
    served = trees.probabilities(probe.records)
    difference = max(abs(ours - theirs) for ours, theirs in zip(served, probe.probabilities, strict=True))
    if difference > MAX_DIFFERENCE:
        raise ModelMismatch(
            f"{trees.path}: the compiled trees and the model differ by up to {difference:.2e} on "
            f"{len(served)} probe records (at most {MAX_DIFFERENCE} allowed)"
        )
    return difference


def compiler() -> str:
    found = shutil.which(COMPILER)
    if found is None:
        raise ModelMismatch(f"no {COMPILER} on PATH: the compiled path needs a C compiler where it is built")
    return found


def sources(folder: Path) -> list[Path]:
    """The C files TL2cgen wrote in `folder`, as its recipe lists them."""
    recipe = json.loads((folder / SOURCES).read_text())
    return [folder / f"{source['name']}.c" for source in recipe["sources"]]


def cache_key(folder: Path, compiler_path: str) -> str:
    """One digest of every input of the compiler's output: the code (TL2cgen's sources and the headers
    they include, the batch loop), the flags, and the compiler's own version."""
    version = subprocess.run([compiler_path, "--version"], capture_output=True, check=True).stdout
    digest = hashlib.sha256()
    code = sorted({*sources(folder), *folder.glob("*.h")})
    parts = (
        version,
        *map(str.encode, COMPILE_FLAGS),
        *(path.name.encode() + path.read_bytes() for path in code),
        BATCH_CODE.encode(),
    )
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def compile_library(folder: Path, compiler_path: str) -> Path:
    """LIBRARY in `folder`, from the C code TL2cgen wrote there and the batch loop (written there too)."""
    library = folder / LIBRARY
    batch = folder / BATCH_SOURCE
    batch.write_text(BATCH_CODE)
    code = [*sources(folder), batch]
    command = [compiler_path, *COMPILE_FLAGS, "-o", str(library), *map(str, code), "-lm"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return library


def loads(library: Path) -> bool:
    try:
        ctypes.PyDLL(str(library))
    except OSError as error:
        log.warning("discarded the cached library %s: %s", library, error)
        return False
    return True


def build(folder: Path, cache: Path | None = None) -> Path:
    """Compiles the C code in `folder` into LIBRARY there and verifies it against the probe; the library
    is removed again if it answers otherwise than the model. With a cache folder (default: the one
    CACHE_VARIABLE names, if any), a library built from the same inputs before is reused instead, verified
    all the same; an entry that does not load is built again. One that loads but answers otherwise is
    refused like a fresh build: the same code, flags and compiler build the same library."""
    cache = cache or (Path(os.environ[CACHE_VARIABLE]) if os.environ.get(CACHE_VARIABLE) else None)
    compiler_path = compiler()
    entry = cache / f"{cache_key(folder, compiler_path)}.so" if cache else None
    library = folder / LIBRARY
    reused = bool(entry and entry.exists() and loads(entry))
    if reused:
        shutil.copyfile(entry, library)
    else:
        compile_library(folder, compiler_path)
    try:
        difference = verify(Trees(library), Probe.read(folder))
    except ModelMismatch:
        library.unlink()
        raise
    log.info(
        "%s %s: within %.1e of the model on its probe records",
        f"reused {entry} as" if reused else "compiled",
        library,
        difference,
    )
    if entry and not reused:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # Whole or absent: another process may be storing the same entry.
        partial = entry.with_suffix(f".{os.getpid()}.partial")
        shutil.copyfile(library, partial)
        partial.replace(entry)
    return library


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="compile and verify a model's trees (image build)")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("model", type=Path, help="an MLflow model folder with a compiled artifact")
    args = parser.parse_args(argv)
    try:
        library = build(folder(args.model))
    except (ModelMismatch, OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or ""
        print(f"compiled: {error} {detail}".strip(), file=sys.stderr)
        return 1
    print(f"compiled and verified: {library}")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
