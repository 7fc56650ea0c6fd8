"""The offline run itself: stacks run in forked workers declare exactly what they declare run one by one."""

from infra.stacks import ALL, ENVIRONMENTS, SHARED
from infra.tools.mock_run import DeclaredResource, StackRun, run_stack, run_stacks


def by_urn(run: StackRun) -> dict[str, DeclaredResource]:
    return {resource.urn: resource for resource in run.resources}


def test_parallel_runs_equal_runs_one_by_one() -> None:
    parallel = run_stacks(ALL)
    assert list(parallel) == list(ALL)
    for stack in ALL:
        alone = run_stack(stack)
        assert by_urn(parallel[stack]) == by_urn(alone), f"stack {stack} differs when run in a worker"
        assert parallel[stack].outputs == alone.outputs


def test_environment_stacks_without_shared_run_in_the_order_asked() -> None:
    # `shared` is not asked for: its outputs still reach every environment's StackReference.
    stacks = list(reversed(ENVIRONMENTS))
    runs = run_stacks(stacks)
    assert list(runs) == stacks
    for stack in stacks:
        assert by_urn(runs[stack]) == by_urn(run_stack(stack))


def test_repeated_stacks_run_once() -> None:
    assert list(run_stacks(["qa", "qa", SHARED])) == ["qa", SHARED]
