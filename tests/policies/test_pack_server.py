"""The pack as the Pulumi CLI starts it: PulumiPolicy.yaml's virtualenv, `python -m pulumi.policy`, gRPC.

This mirrors the CLI's pulumi-analyzer-policy-python shim (it runs `<virtualenv>/bin/python -u -m
pulumi.policy <engine> .` in the pack's folder, with the stack's config in PULUMI_CONFIG) and then
speaks the analyzer protocol the engine speaks, so `__main__.py`, the import path and the PolicyPack
are exercised without the CLI.
"""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from infra.policies.environments import ENVIRONMENT, PROTECTED_KEY
from infra.policies.policies import POLICIES
from tests.policies.cases import COMPLIANT
from tests.policies.support import urn

PACK = Path(__file__).resolve().parents[2] / "infra" / "policies"


def struct(props: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(props)
    return message


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    options = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["runtime"]["options"]
    python = (PACK / options["virtualenv"]).resolve() / "bin" / "python"
    assert python.is_file(), (
        f"PulumiPolicy.yaml's virtualenv has no interpreter at {python}: run `make setup`"
    )
    env = {
        **os.environ,
        "PULUMI_CONFIG": json.dumps({PROTECTED_KEY: "true"}),
        "PULUMI_PROJECT": "mlops-platform",
        "PULUMI_STACK": "qa",
        "PULUMI_DRY_RUN": "true",
    }
    server = subprocess.Popen(
        [str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=PACK,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        assert port.isdigit(), (
            f"the pack did not start: {port!r} {server.stderr.read() if server.stderr else ''}"
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        server.kill()
        server.wait()


def test_pack_announces_every_policy_as_mandatory(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "mlops-platform"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in POLICIES)
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}


def test_pack_reports_a_weak_vault_by_name_and_rule(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    resource_type, props = COMPLIANT["key-vault"]
    weak = {**props, "properties": {**props["properties"], "enablePurgeProtection": False}}
    request = analyzer_pb2.AnalyzeRequest(
        type=resource_type, name="kv-weak", urn=urn(resource_type, "kv-weak"), properties=struct(weak)
    )
    [diagnostic] = analyzer.Analyze(request).diagnostics
    assert diagnostic.policyName == "key-vault-rbac-purge-protection"
    assert "'kv-weak'" in diagnostic.message and "purge protection" in diagnostic.message
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY


def test_pack_reads_protection_from_the_stack_config(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    # PULUMI_CONFIG says qa is protected; an environment without gates must be reported.
    resource = analyzer_pb2.AnalyzerResource(
        type=ENVIRONMENT, name="qa", urn=urn(ENVIRONMENT, "qa"), properties=struct({"name": "qa"})
    )
    [diagnostic] = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[resource])).diagnostics
    assert diagnostic.policyName == "protected-environment-gates"
    assert (
        "Environment 'qa'" in diagnostic.message
        and "missing: CheckApproval, CheckBranchControl" in diagnostic.message
    )
