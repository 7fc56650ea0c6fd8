"""Each Pulumi SDK internal of infra/pulumi_internals.py still does what the project relies on.

When an SDK upgrade breaks one, the failure names it and the module to fix, instead of surfacing as a
wrong mock run or a policy that silently stops reading inputs.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import pulumi
import pytest

from infra import pulumi_internals
from infra.pulumi_internals import (
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    stack_exports,
    unknown_checking_proxy,
)
from tests.infra.component_mocks import Recorder, resolve


@contextmanager
def relied_on(internal: str) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        sdks = f"pulumi {version('pulumi')}, pulumi-policy {version('pulumi-policy')}"
        raise AssertionError(
            f"{internal} no longer works with {sdks} ({error!r}): "
            f"find its replacement and update infra/pulumi_internals.py"
        ) from error


class Thing(pulumi.CustomResource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Thing", name, props, opts)


def exports_of(program: Callable[[], None]) -> dict[str, Any]:
    def run() -> pulumi.Output:
        program()
        return pulumi.Output.from_input(stack_exports())

    return resolve(run)


def test_stack_exports_are_what_the_program_exported(recorder: Recorder) -> None:
    with relied_on("stack_exports (the root Stack's `outputs`)"):
        assert exports_of(lambda: pulumi.export("answer", pulumi.Output.from_input(42))) == {"answer": 42}


def test_registrations_carry_parent_dependencies_and_plain_secrets(recorder: Recorder) -> None:
    with relied_on("RegistrationMonitor (MockMonitor.RegisterResource, rpc secrets)"):

        def declare() -> pulumi.Output:
            parent = pulumi.ComponentResource("test:index:Group", "group")
            first = Thing("first", {"size": 1}, pulumi.ResourceOptions(parent=parent))
            second = Thing(
                "second",
                {"password": pulumi.Output.secret("hunter2"), "nested": {"key": pulumi.Output.secret("k")}},
                pulumi.ResourceOptions(parent=parent, depends_on=[first]),
            )
            return second.urn

        resolve(declare)
        group, first, second = recorder.resources
        assert (group.custom, first.custom, second.custom) == (False, True, True)
        assert first.parent_urn == second.parent_urn == group.urn
        assert second.dependencies == (first.urn,)
        assert second.inputs == {"password": "hunter2", "nested": {"key": "k"}}
        # The id the mocks answered, the default provider as none, and the request itself beside them.
        assert first.id and (first.provider, second.provider) == ("", "")
        assert [request.name for request in recorder.requests("test:index:Thing")] == ["first", "second"]


def test_unknown_inputs_raise_the_policy_sdks_error() -> None:
    with relied_on("unknown_checking_proxy, UNKNOWN_STRING_VALUE and UnknownValueError"):
        inputs = unknown_checking_proxy({"known": "x", "later": UNKNOWN_STRING_VALUE})
        assert inputs["known"] == "x"
        with pytest.raises(UnknownValueError):
            inputs["later"]


def test_a_broken_internal_is_named_with_the_module_to_fix(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if an upgrade dropped the attribute the exports are read from.
    monkeypatch.setattr(pulumi_internals.pulumi.runtime, "get_root_resource", lambda: object())
    with (
        pytest.raises(AssertionError, match=r"stack_exports .* update infra/pulumi_internals\.py"),
        relied_on("stack_exports (the root Stack's `outputs`)"),
    ):
        stack_exports()
