"""Build components alone under Pulumi's mock runtime, recording what they declare."""

from collections.abc import Callable
from typing import Any

import pulumi

from infra.config import PROJECT
from infra.pulumi_internals import Registration
from infra.tools.mock_run import DeclaredResource, PlatformMocks, RecordingMonitor

SUBSCRIPTION = "00000000-0000-0000-0000-000000000123"
TAGS = {"environment": "dev", "project": "mlops-platform", "owner": "team@contoso.com", "cost-center": "cc-1"}


class RequestMonitor(RecordingMonitor):
    """Also keeps each registration request as sent: resource options and secret markers included."""

    def __init__(self, platform_mocks: PlatformMocks) -> None:
        super().__init__(platform_mocks)
        self.requests: list[Any] = []

    def keep(self, registration: Registration) -> None:
        super().keep(registration)
        self.requests.append(registration.request)


class Recorder:
    def __init__(self, monitor: RequestMonitor) -> None:
        self._monitor = monitor

    def requests(self, type_: str) -> list[Any]:
        """Registration requests of resources of `type_`, as the engine would receive them."""
        return [request for request in self._monitor.requests if request.type == type_]

    def request(self, type_: str) -> Any:
        found = self.requests(type_)
        assert len(found) == 1, f"expected one {type_}, found {len(found)}"
        return found[0]

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [resource for resource in self._monitor.declared if resource.type == type_]

    def one(self, type_: str) -> DeclaredResource:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, found {len(found)}"
        return found[0]

    @property
    def resources(self) -> list[DeclaredResource]:
        return list(self._monitor.declared)


def start_recording(stack: str = "dev") -> Recorder:
    """A fresh mock runtime (a new root stack) whose registrations the returned recorder holds."""
    mocks = PlatformMocks(stack, SUBSCRIPTION, references={})
    monitor = RequestMonitor(mocks)
    pulumi.runtime.reset_options(project=PROJECT, stack=stack)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    return Recorder(monitor)


def resolve(factory: Callable[[], Any]) -> Any:
    """Build resources under the mocks and return the resolved value of what `factory` returns.

    `pulumi.runtime.test` waits for every registration before it returns, so the recorder holds all
    declared resources afterwards; a value that never resolved fails the test instead of passing."""
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        return pulumi.Output.from_input(factory()).apply(lambda value: resolved.setdefault("value", value))

    run()
    assert "value" in resolved, "the output never resolved"
    return resolved["value"]
