"""Build components alone under Pulumi's mock runtime, recording what they declare."""

from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings

from infra.tools.mock_run import DeclaredResource, PlatformMocks, RecordingMonitor

SUBSCRIPTION = "00000000-0000-0000-0000-000000000123"


class RequestMonitor(RecordingMonitor):
    """Also keeps each registration request as sent: resource options and secret markers included."""

    def __init__(self, platform_mocks: PlatformMocks) -> None:
        super().__init__(platform_mocks)
        self.requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        return super().RegisterResource(request)


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


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    mocks = PlatformMocks("dev", SUBSCRIPTION, references={})
    monitor = RequestMonitor(mocks)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="mlops-platform", stack="dev", preview=False, monitor=monitor)
    yield Recorder(monitor)


TAGS = {"environment": "dev", "project": "mlops-platform", "owner": "team@contoso.com", "cost-center": "cc-1"}


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
