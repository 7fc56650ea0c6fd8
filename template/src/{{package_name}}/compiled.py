"""The fast path for tree ensembles: the model's trees as C code, compiled with a small CPython extension
module around them. Derived from the registered model ahead of time (tree_code.py at training; `build` here
at training and at every image build) and verified there against the model's own predictions, never at
start: loading costs a `dlopen` and no import of MLflow, XGBoost, pandas or numpy.

The model's `compiled` artifact (ARTIFACT, in the MLflow folder's artifacts/) holds:
  main.c header.h recipe.json   TL2cgen's C code of the trees (https://tl2cgen.readthedocs.io)
  probe.json                    records spread over the request schema, and the probabilities that the
                                registered model itself (its pyfunc) answered for them at training
  trees.cpython-311-....so      built from the C code by `python -m <package>.compiled build <model dir>`,
                                for the Python that builds it (LIBRARY: the module's name and that
                                Python's extension suffix, as Python names its own extension modules)

The module (MODULE_CODE, compiled with TL2cgen's code) calls TL2cgen's `predict(union Entry* row, int
pred_margin, float* result)` for each row of a request, from the rows' Python floats to a list of rounded
probabilities in one call: ctypes' calling machinery, the float32 array it needs and the results' array
cost more than the trees of one record (bench/RESULTS.md). A `union Entry` holds an `int missing` (-1 for
a missing value) or a `float fvalue`; the features of a validated record are never missing.
"""

import argparse
import hashlib
import importlib.machinery
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from . import features

log = logging.getLogger(__name__)

# The artifact's name, and the folder's: MLflow copies an artifact folder under its own name.
ARTIFACT = "compiled"
PROBE = "probe.json"
SOURCES = "recipe.json"
# The module's name is its interface (`probabilities(rows)`, `shape()`): a module with another interface
# gets another name, so a library built by an older version of this file is never called as this one.
MODULE = "trees"
# An extension module runs only in the Python it was built for (its ABI): the suffix names that Python, so a
# library built for another one is not found, as Python itself finds none on import.
LIBRARY = MODULE + sysconfig.get_config_var("EXT_SUFFIX")
# The answers, like XGBoost's, are float32 sums over trees in another order: they agree to about 3e-7.
MAX_DIFFERENCE = 1e-5
# What the service answers: float32 sums differ from the model's own past the sixth decimal.
PROBABILITY_DIGITS = 6
# TL2cgen's own GCC recipe (tl2cgen/contrib/gcc.py): -O3, position-independent, C99, libm for exp().
COMPILER = "gcc"
# An extension module leaves Python's own functions to the interpreter that loads it: the default on Linux;
# macOS's linker needs telling, as Python's own LDSHARED there does (`-undefined dynamic_lookup`).
COMPILE_FLAGS = (
    "-O3",
    "-fPIC",
    "-std=c99",
    "-shared",
    *(("-undefined", "dynamic_lookup") if sys.platform == "darwin" else ()),
)
# A folder of libraries built before, by the digest of what built them (sources, flags, compiler, Python),
# as ccache keeps objects: the same trees are compiled once, however many models carry them. Unset (the
# image build), every build compiles.
CACHE_VARIABLE = "COMPILED_CACHE_DIR"
# The module's code, compiled into every library beside TL2cgen's (the model's artifact holds the trees
# only: a library built from an older artifact gets it all the same). TL2cgen's `predict` adds the trees to
# what `result` holds, so each sum starts at zero. Each probability leaves as a double rounded to
# PROBABILITY_DIGITS in C: a float32 times 10**6 is exact in a double (24 + 14 bits; up to 10**12 it would
# be), so `rint` (half to even) of it over 10**6 is, bit for bit, Python's `round(p, 6)` of the same float.
# A double past float32's range becomes infinite in the conversion (IEEE 754, C99 Annex F), as in NumPy's
# and XGBoost's float32 inputs. The call keeps the interpreter lock: a call of microseconds gains nothing
# from releasing it, and each release would let the worker's exporter threads hold it for up to the switch
# interval while the request waits. A template without braces of its own: C has them, and a stamped
# project keeps none of Jinja's.
MODULE_SOURCE = "python_module.c"
MODULE_CODE = Template("""#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "header.h"

/* A row of model inputs into TL2cgen's entries: 0, or -1 with the exception set. */
static int entries_of(PyObject* row, union Entry* entries, Py_ssize_t width) {
  PyObject* items = PySequence_Fast(row, "a row of model inputs must be a list or a tuple");
  if (items == NULL) return -1;
  Py_ssize_t size = PySequence_Fast_GET_SIZE(items);
  if (size != width) {
    PyErr_Format(PyExc_ValueError, "a row has %zd model inputs, the trees take %zd", size, width);
    Py_DECREF(items);
    return -1;
  }
  PyObject** values = PySequence_Fast_ITEMS(items);
  for (Py_ssize_t j = 0; j < size; ++j) {
    PyObject* item = values[j];
    double value = PyFloat_CheckExact(item) ? PyFloat_AS_DOUBLE(item) : PyFloat_AsDouble(item);
    if (value == -1.0 && PyErr_Occurred()) {
      Py_DECREF(items);
      return -1;
    }
    entries[j].fvalue = (float)value;
  }
  Py_DECREF(items);
  return 0;
}

static PyObject* probabilities(PyObject* module, PyObject* rows) {
  PyObject* listed = PySequence_Fast(rows, "rows must be an iterable of rows");
  if (listed == NULL) return NULL;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(listed);
  PyObject** items = PySequence_Fast_ITEMS(listed);
  PyObject* results = PyList_New(count);
  const Py_ssize_t width = get_num_feature();
  union Entry entries[width];
  for (Py_ssize_t i = 0; results != NULL && i < count; ++i) {
    if (entries_of(items[i], entries, width) < 0) {
      Py_CLEAR(results);
      break;
    }
    float sum = 0.0f;
    predict(entries, 0, &sum);
    PyObject* probability = PyFloat_FromDouble(rint((double)sum * 1e${digits}) / 1e${digits});
    if (probability == NULL) {
      Py_CLEAR(results);
      break;
    }
    PyList_SET_ITEM(results, i, probability);
  }
  Py_DECREF(listed);
  return results;
}

/* The model's shape, as TL2cgen reports it; the classes only of a model of one target. */
static PyObject* shape(PyObject* module, PyObject* unused) {
  int32_t targets = get_num_target();
  int32_t classes = 0;
  if (targets == 1) get_num_class(&classes);
  return Py_BuildValue(
      "{s:i,s:i,s:i,s:s,s:s}", "features", (int)get_num_feature(), "targets", (int)targets,
      "classes", (int)classes, "threshold type", get_threshold_type(), "output type", get_leaf_output_type());
}

static PyMethodDef methods[] = {
  { "probabilities", probabilities, METH_O, "The rounded probabilities of rows of model inputs." },
  { "shape", shape, METH_NOARGS, "The model's shape." },
  { NULL, NULL, 0, NULL },
};

/* Multi-phase initialisation (PEP 489): nothing lands in sys.modules; each load is a module of its own. */
static PyModuleDef definition = {
  .m_base = PyModuleDef_HEAD_INIT,
  .m_name = "${module}",
  .m_doc = "A model's trees, compiled.",
  .m_size = 0,
  .m_methods = methods,
};

PyMODINIT_FUNC PyInit_${module}(void) { return PyModuleDef_Init(&definition); }
""").substitute(module=MODULE, digits=PROBABILITY_DIGITS)


class ModelMismatch(RuntimeError):
    """The compiled trees cannot stand in for the model: no library for this Python, another shape, or
    other answers."""


class NoToolchain(RuntimeError):
    """No C compiler or no Python headers here: the library is built where they are (the image build)."""


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
        if not library.is_file():
            others = sorted(path.name for path in library.parent.glob(f"{MODULE}.*") if path != library)
            built = f" (built for another Python: {', '.join(others)})" if others else ""
            raise ModelMismatch(
                f"no {library}{built}: build it with `python -m {__package__}.compiled build <model folder>`"
            )
        name = f"{__package__}.{MODULE}"
        loader = importlib.machinery.ExtensionFileLoader(name, str(library))
        spec = importlib.util.spec_from_file_location(name, library, loader=loader)
        try:
            module: Any = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            loader.exec_module(module)
        except ImportError as error:
            raise ModelMismatch(f"{library} does not load: {error}") from None
        expected = {
            "features": len(features.NAMES),
            "targets": 1,
            "classes": 1,
            "threshold type": "float32",
            "output type": "float32",
        }
        if (shape := module.shape()) != expected:
            raise ModelMismatch(f"{library}: the library's model is {shape}, the service needs {expected}")
        self._probabilities = module.probabilities

    def of_inputs(self, rows: Iterable[Sequence[float]]) -> list[float]:
        """Of rows of model inputs (features.row), in one call, rounded to PROBABILITY_DIGITS."""
        return self._probabilities(rows)

    def probabilities(self, records: Sequence[Sequence]) -> list[float]:
        """Of records given as their values in FEATURE_NAMES order (later values are ignored)."""
        if len(records) == 1:  # the common request, without a list of the rows
            return self._probabilities((features.row(records[0]),))
        return self._probabilities(map(features.row, records))


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


@dataclass(frozen=True)
class Toolchain:
    """What builds the library: the C compiler, and the headers of the Python that will load it."""

    compiler: str
    includes: tuple[str, ...]

    def version(self) -> bytes:
        return subprocess.run([self.compiler, "--version"], capture_output=True, check=True).stdout


def toolchain() -> Toolchain:
    """This machine's; NoToolchain, saying what to install, where a part is missing."""
    found = shutil.which(COMPILER)
    if found is None:
        raise NoToolchain(f"no {COMPILER} on PATH: the compiled trees need a C compiler where they are built")
    # Debian keeps pyconfig.h apart from Python.h (platinclude); elsewhere both are one folder.
    includes = tuple(dict.fromkeys(sysconfig.get_path(name) for name in ("include", "platinclude")))
    if not (Path(includes[0]) / "Python.h").is_file():
        raise NoToolchain(
            f"no Python.h in {includes[0]}: the compiled trees are an extension module of this Python and "
            "need its headers where they are built (Debian and Ubuntu: python3-dev; the python images, "
            "uv's and pyenv's Pythons have them)"
        )
    return Toolchain(found, includes)


def sources(folder: Path) -> list[Path]:
    """The C files TL2cgen wrote in `folder`, as its recipe lists them."""
    recipe = json.loads((folder / SOURCES).read_text())
    return [folder / f"{source['name']}.c" for source in recipe["sources"]]


def cache_key(folder: Path, tools: Toolchain) -> str:
    """One digest of every input of the compiler's output: the code (TL2cgen's sources and the headers
    they include, the module), the flags, the compiler's own version and the Python built for."""
    digest = hashlib.sha256()
    code = sorted({*sources(folder), *folder.glob("*.h")})
    parts = (
        tools.version(),
        sys.version.encode(),
        LIBRARY.encode(),
        *map(str.encode, COMPILE_FLAGS),
        *(path.name.encode() + path.read_bytes() for path in code),
        MODULE_CODE.encode(),
    )
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def compile_library(folder: Path, tools: Toolchain) -> Path:
    """LIBRARY in `folder`, from the C code TL2cgen wrote there and the module's (written there too). Code
    that does not compile (trees whose types the module does not take) is a ModelMismatch."""
    library = folder / LIBRARY
    module = folder / MODULE_SOURCE
    module.write_text(MODULE_CODE)
    includes = [f"-I{include}" for include in tools.includes]
    code = [*map(str, sources(folder)), str(module)]
    command = [tools.compiler, *COMPILE_FLAGS, *includes, "-o", str(library), *code, "-lm"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ModelMismatch(
            f"{tools.compiler} did not compile the trees in {folder}: {result.stderr[-2000:]}"
        )
    return library


def cached(entry: Path, library: Path) -> Trees | None:
    """The library a cache entry holds, copied into place, or None where it does not load."""
    shutil.copyfile(entry, library)
    try:
        return Trees(library)
    except ModelMismatch as error:
        log.warning("discarded the cached library %s: %s", entry, error)
        return None


def build(folder: Path, cache: Path | None = None) -> Path:
    """Compiles the C code in `folder` into LIBRARY there and verifies it against the probe; the library
    is removed again if it answers otherwise than the model. With a cache folder (default: the one
    CACHE_VARIABLE names, if any), a library built from the same inputs before is reused instead, verified
    all the same; an entry that does not load is built again. One that loads but answers otherwise is
    refused like a fresh build: the same code, flags, compiler and Python build the same library."""
    cache = cache or (Path(os.environ[CACHE_VARIABLE]) if os.environ.get(CACHE_VARIABLE) else None)
    tools = toolchain()
    entry = cache / f"{cache_key(folder, tools)}.so" if cache else None
    library = folder / LIBRARY
    trees = cached(entry, library) if entry is not None and entry.exists() else None
    reused = trees is not None
    try:
        if trees is None:
            compile_library(folder, tools)
            trees = Trees(library)
        difference = verify(trees, Probe.read(folder))
    except ModelMismatch:
        library.unlink(missing_ok=True)
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
    except (ModelMismatch, NoToolchain, OSError, subprocess.CalledProcessError) as error:
        print(f"compiled: {error}", file=sys.stderr)
        return 1
    print(f"compiled and verified: {library}")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
