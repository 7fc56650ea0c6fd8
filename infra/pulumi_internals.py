"""The Pulumi SDK internals this project relies on, kept here and nowhere else.

Everything else uses the SDKs' public API. Each name below has no public equivalent (the reason is beside
it); tests/infra/test_pulumi_internals.py exercises every one against the installed SDKs, so an upgrade
that moves one fails there, naming it, instead of deep inside a mock run or a policy.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi.runtime
from pulumi.runtime import mocks, rpc

# pulumi_policy exports only the policy classes. Its `proxy` module is how the policy server hands a
# policy its inputs in a preview: `unknown_checking_proxy` wraps them, and reading one that is not known
# yet (UNKNOWN_STRING_VALUE on the wire) raises UnknownValueError.
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

__all__ = [
    "STACK_TYPE",
    "UNKNOWN_STRING_VALUE",
    "Registration",
    "RegistrationMonitor",
    "UnknownValueError",
    "stack_exports",
    "unknown_checking_proxy",
]

STACK_TYPE: Final = "pulumi:pulumi:Stack"


def stack_exports() -> dict[str, Any]:
    """What the program passed to `pulumi.export`, as inputs (Outputs among them).

    Under mocks the root stack registers its outputs when `set_mocks` creates it, before the program
    runs, so the exports never reach the monitor: the root Stack resource keeps them in `outputs`.
    """
    root = pulumi.runtime.get_root_resource()
    if root is None:
        raise RuntimeError("no root stack: pulumi.runtime.set_mocks creates it")
    return dict(root.outputs)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Registration:
    """One resource registration as the engine receives it, inputs as plain values."""

    type: str
    name: str
    urn: str
    parent_urn: str | None
    custom: bool
    inputs: dict[str, Any]
    dependencies: tuple[str, ...]
    # The id the monitor answered, and the explicit provider (`<provider urn>::<provider id>`, empty for the
    # default one).
    id: str
    provider: str
    # The RegisterResourceRequest itself: resource options and the wire form of secrets, for tests that
    # check what the engine receives.
    request: Any = field(compare=False, repr=False)


class RegistrationMonitor(mocks.MockMonitor):
    """The mock monitor (the documented `monitor` argument of `set_mocks`), handing each registration
    to `record`. Its `RegisterResource` receives the engine protocol's RegisterResourceRequest: the only
    place where a resource's parent and explicit dependencies are visible under mocks."""

    def __init__(self, resource_mocks: pulumi.runtime.Mocks, record: Callable[[Registration], None]) -> None:
        super().__init__(resource_mocks)
        self._record = record

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != STACK_TYPE:
            self._record(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent_urn=request.parent or None,
                    custom=bool(request.custom),
                    inputs=_plain(rpc.deserialize_properties(request.object, keep_unknowns=False)),
                    # A set to the engine; the SDK sends it in no stable order.
                    dependencies=tuple(sorted(request.dependencies)),
                    id=response.id,
                    provider=request.provider,
                    request=request,
                )
            )
        return response


def _plain(value: Any) -> Any:
    """Plain values where the wire format marks secrets, as a policy pack sees them."""
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
