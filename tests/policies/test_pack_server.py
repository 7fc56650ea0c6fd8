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

from infra.policies.azure import KEY_VAULT
from infra.policies.environments import ENVIRONMENT, PROTECTED_KEY
from infra.policies.network import ISOLATION_KEY
from infra.policies.policies import POLICIES
from infra.private_link import PRIVATE_DNS_ZONE_GROUP, PRIVATE_ENDPOINT, PRIVATE_ZONE, VIRTUAL_NETWORK_LINK
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
        "PULUMI_CONFIG": json.dumps({PROTECTED_KEY: "true", ISOLATION_KEY: "true"}),
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


def resource(
    type_: str, name: str, props: dict, depends: tuple[str, ...] = (), by_input: dict | None = None
) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=type_,
        name=name,
        urn=urn(type_, name),
        properties=struct(props),
        dependencies=[urn(*d.split("::")) for d in depends],
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=[urn(*d.split("::")) for d in deps])
            for key, deps in (by_input or {}).items()
        },
    )


def test_pack_reads_isolation_from_the_config_and_targets_from_property_dependencies(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    # PULUMI_CONFIG asks for isolation. The endpoint's target id is unknown, as in a first preview: only the
    # engine's property dependency ties it to the vault.
    vault = f"{KEY_VAULT}::vault"
    zone = f"{PRIVATE_ZONE}::vault-zone"
    endpoint = f"{PRIVATE_ENDPOINT}::pe-vault"
    private = [
        resource(KEY_VAULT, "vault", {"vaultName": "kv1", "properties": {"publicNetworkAccess": "Disabled"}}),
        resource(
            PRIVATE_ENDPOINT,
            "pe-vault",
            {"privateLinkServiceConnections": [{"groupIds": ["vault"]}]},
            by_input={"privateLinkServiceConnections": [vault]},
        ),
        resource(PRIVATE_ZONE, "vault-zone", {"privateZoneName": "privatelink.vaultcore.azure.net"}),
        resource(VIRTUAL_NETWORK_LINK, "vault-zone-link", {}, (zone,)),
        resource(PRIVATE_DNS_ZONE_GROUP, "pe-vault-dns", {}, (endpoint, zone)),
    ]
    found = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=private)).diagnostics
    network_policies = {"public-network-access-off", "private-endpoints-present"}
    assert not [d.message for d in found if d.policyName in network_policies]
    public = [
        resource(KEY_VAULT, "vault", {"vaultName": "kv1", "properties": {"publicNetworkAccess": "Enabled"}}),
        *private[1:],
    ]
    found = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=public)).diagnostics
    [diagnostic] = [d for d in found if d.policyName in network_policies]
    assert diagnostic.policyName == "public-network-access-off" and "'vault'" in diagnostic.message
