"""Policies over Azure DevOps resources (pulumi-azuredevops v3 wire inputs)."""

import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from infra.policies.props import at, items, label
from infra.policies.rules import require_value, resource_policy
from infra.pulumi_internals import UnknownValueError

VARIABLE_GROUP: Final = "azuredevops:index/variableGroup:VariableGroup"
# Service connections come as ServiceEndpoint* and, for newer kinds, Serviceendpoint* resources.
_SERVICE_ENDPOINT: Final = re.compile(r"^azuredevops:index/service[eE]ndpoint")
# The kinds that can authenticate to Azure by workload identity federation instead of a secret.
FEDERATED_ENDPOINTS: Final = frozenset(
    {
        "azuredevops:index/serviceEndpointAzureRM:ServiceEndpointAzureRM",
        "azuredevops:index/serviceEndpointAzureEcr:ServiceEndpointAzureEcr",
    }
)
WORKLOAD_IDENTITY_FEDERATION: Final = "WorkloadIdentityFederation"
# Input names (lowercased) under which the provider's service connections take a credential: the secret
# inputs of its schema, top level (password, apiToken, ...) and nested (credentials.serviceprincipalkey,
# authPersonal.personalAccessToken, serviceAccount.token, kubeconfig.kubeConfig).
CREDENTIAL_INPUTS: Final = frozenset(
    {
        "serviceprincipalkey",
        "serviceprincipalcertificate",
        "password",
        "dockerpassword",
        "token",
        "accesstoken",
        "apitoken",
        "apikey",
        "personalaccesstoken",
        "secretaccesskey",
        "sessiontoken",
        "privatekey",
        "clientsecret",
        "connectionstring",
        "secret",
        "authorizationparameters",
        "kubeconfig",
    }
)


def _known(container: Any, key: Any) -> tuple[bool, Any]:
    """(known, value): in a preview the engine marks values computed by other resources as unknown."""
    try:
        return True, container[key]
    except UnknownValueError:
        return False, None


def _credentials(value: Any, path: str = "") -> Iterator[str]:
    """Paths of every credential input, at any depth; one whose value is not known yet is still set.

    Other unknown inputs (an identity's client id during a first preview) are skipped rather than
    read, so the rule runs in a preview instead of being reported as not applicable.
    """
    if isinstance(value, Mapping):
        for key in value:
            known, child = _known(value, key)
            child_path = f"{path}.{key}" if path else key
            if key.lower() in CREDENTIAL_INPUTS and (not known or child not in (None, "", {}, [])):
                yield child_path
            elif known:
                yield from _credentials(child, child_path)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index in range(len(value)):
            known, child = _known(value, index)
            if known:
                yield from _credentials(child, f"{path}[{index}]")


def _validate_service_endpoint(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not _SERVICE_ENDPOINT.match(args.resource_type):
        return
    for path in _credentials(args.props):
        report_violation(f"{label(args)}: a service connection holds no secret ({path} is set)", None)
    if args.resource_type in FEDERATED_ENDPOINTS:
        for broken in require_value(
            args.props,
            "serviceEndpointAuthenticationScheme",
            (WORKLOAD_IDENTITY_FEDERATION,),
            "the service connection must use workload identity federation",
        ):
            report_violation(f"{label(args)}: {broken}", None)


# Names that say "this is a secret": single words, and two-word names that do.
_SECRET_WORDS: Final = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "pat", "credential", "credentials", "apikey", "sas"}
)
_SECRET_PAIRS: Final = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("account", "key"),
        ("private", "key"),
        ("shared", "key"),
        ("client", "secret"),
        ("connection", "string"),
    }
)
# Values that are secrets whatever their name: connection strings with a key or password, PEM private
# keys, JWTs, Azure DevOps PATs (52 lowercase base32) and long base64 keys (storage, Event Hubs).
_SECRET_VALUES: Final = (
    re.compile(r"(AccountKey|SharedAccessKey|Password|pwd)=", re.IGNORECASE),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$"),
    re.compile(r"^[a-z2-7]{52}$"),
    re.compile(r"^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)[A-Za-z0-9+/]{40,}={0,2}$"),
)


def _words(name: str) -> list[str]:
    """Words of a variable name: acrAdminPassword, ACR_ADMIN_PASSWORD and acr-admin-password alike."""
    return [word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def looks_like_secret(name: str, value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    words = _words(name)
    if _SECRET_WORDS.intersection(words) or _SECRET_PAIRS.intersection(pairwise(words)):
        return True
    return any(pattern.search(value) for pattern in _SECRET_VALUES)


def _variable_group(props: Mapping[str, Any]) -> Iterator[str]:
    # Linked to Key Vault, a group's variables are the names of vault secrets and their values come from
    # the vault; a secret written into the program is in its state and its history either way.
    linked = isinstance(at(props, "keyVault"), Mapping)
    for variable in items(at(props, "variables")):
        name = at(variable, "name")
        if at(variable, "secretValue") not in (None, ""):
            yield f"variable '{name}' holds a secret value in the program; secrets come from a Key Vault link"
        elif not linked and at(variable, "isSecret") is True:
            yield f"variable '{name}' is a secret in a group without a Key Vault link"
        elif not linked and looks_like_secret(str(name), at(variable, "value")):
            yield f"variable '{name}' looks like a plain-text secret; keep it in Key Vault and link the group"


DEVOPS_RESOURCE_POLICIES: Final = (
    ResourceValidationPolicy(
        name="service-connection-workload-identity",
        description="Service connections authenticate by workload identity federation and hold no secret.",
        validate=_validate_service_endpoint,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    resource_policy(
        "variable-group-no-plain-secrets",
        "Variable groups hold no plain-text secret values; secrets come only through a Key Vault link.",
        {VARIABLE_GROUP},
        _variable_group,
    ),
)
