"""The offline run itself: the speed-ups (forked workers, rare collections, the cached shared run) declare
exactly what the plain path declares: every stack in this process, one after another, default collector."""

import gc
import multiprocessing
import os
from dataclasses import dataclass

import pytest

from infra.stacks import ALL, ENVIRONMENTS, SHARED
from infra.tools import mock_run
from infra.tools.mock_run import DeclaredResource, StackRun, run_stack, run_stacks


def by_urn(run: StackRun) -> dict[str, DeclaredResource]:
    return {resource.urn: resource for resource in run.resources}


@dataclass
class Spied:
    runs: dict[str, StackRun]
    thresholds: list[tuple[int, ...]]


def no_fork(*args: object) -> None:
    raise AssertionError("the run forked")


@pytest.fixture(scope="module")
def spied() -> Spied:
    """The plain runs of every stack, made with fork refused and the collector's thresholds recorded."""
    thresholds: list[tuple[int, ...]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(multiprocessing, "get_context", no_fork)
        patch.setattr(gc, "set_threshold", lambda *values: thresholds.append(values))
        runs = run_stacks(ALL, plain=True)
    return Spied(runs, thresholds)


@pytest.fixture(scope="module")
def plain(spied: Spied) -> dict[str, StackRun]:
    return spied.runs


def assert_same_runs(runs: dict[str, StackRun], reference: dict[str, StackRun]) -> None:
    for stack, run in runs.items():
        assert by_urn(run) == by_urn(reference[stack]), f"stack {stack} declares something else"
        assert run.outputs == reference[stack].outputs, f"stack {stack} exports something else"


def test_parallel_runs_equal_plain_runs(plain: dict[str, StackRun]) -> None:
    parallel = run_stacks(ALL)
    assert list(parallel) == list(plain) == list(ALL)
    assert_same_runs(parallel, plain)


def test_environment_stacks_without_shared_run_in_the_order_asked(plain: dict[str, StackRun]) -> None:
    # `shared` is not asked for: its outputs still reach every environment's StackReference.
    stacks = list(reversed(ENVIRONMENTS))
    runs = run_stacks(stacks)
    assert list(runs) == stacks
    assert_same_runs(runs, plain)


def test_one_stack_alone_equals_its_plain_run(plain: dict[str, StackRun]) -> None:
    assert_same_runs({"qa": run_stack("qa")}, plain)


def test_the_comparison_sees_a_different_run(plain: dict[str, StackRun]) -> None:
    with pytest.raises(AssertionError, match="stack qa declares something else"):
        assert_same_runs({"qa": plain["dev"]}, plain)


def test_the_plain_path_neither_forks_nor_tunes_the_collector(
    spied: Spied, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert list(spied.runs) == list(ALL) and spied.thresholds == []
    # The same spies catch the fast path, which forks as soon as two stacks are left for two cores.
    thresholds: list[tuple[int, ...]] = []
    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    monkeypatch.setattr(gc, "set_threshold", lambda *values: thresholds.append(values))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    with pytest.raises(AssertionError, match="forked"):
        run_stacks(ENVIRONMENTS)
    assert mock_run.RUN_GC_THRESHOLD in {values[0] for values in thresholds}


def test_repeated_stacks_run_once() -> None:
    assert list(run_stacks(["qa", "qa", SHARED])) == ["qa", SHARED]
