"""What the onboarded projects' pipelines may do in one environment, and why: the role assignments of the
environment's pipeline identity (the one behind its service connection).

Each grant serves make targets of the generated project, which declare the operations they perform on `#@`
lines (template/Makefile.jinja); `make preflight` checks that every declared operation is granted here and
that every grant here is used. Where a step runs depends on the environment's place in the promotion order:
the first environment trains, registers and builds images; each later one imports the image from the one
before it; the last one runs the drift check, which reads the first one's data.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from infra import roles
from infra.components.pipeline_identity import RoleGrant
from infra.stacks import ENVIRONMENTS


@dataclass(frozen=True)
class GrantTargets:
    """The resources the grants are on: this environment's, and the earlier environments' it reads."""

    subscription_id: str
    registry_id: pulumi.Input[str]
    app_insights_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    storage_account_id: pulumi.Input[str]
    dvc_container_id: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    namespaces: Sequence[str]
    # {project slug: its serving identity's ARM id} (WorkloadIdentities).
    service_identity_ids: Mapping[str, pulumi.Input[str]]
    kube_role_guid: pulumi.Input[str]
    serving_identity_role_guid: pulumi.Input[str]
    # Whether the environment's variable group links its vault (not in a network-isolated environment).
    vault_linked: bool
    previous_registry_id: pulumi.Input[str] | None
    first_dvc_container_id: pulumi.Input[str] | None


def pipeline_grants(environment: str, targets: GrantTargets) -> dict[str, RoleGrant]:
    def grant(scope: pulumi.Input[str], role: str, description: str) -> RoleGrant:
        return RoleGrant(scope, roles.definition_id(targets.subscription_id, role), description)

    first, last = environment == ENVIRONMENTS[0], environment == ENVIRONMENTS[-1]
    grants: dict[str, RoleGrant] = {
        "workspace-reader": grant(
            targets.workspace_id,
            roles.READER,
            "az ml workspace show (the MLflow tracking URI) and the CLI's workspace lookups: AzureML Data "
            "Scientist allows workspaces/*/read, not the workspace itself",
        ),
        "ml-data-scientist": grant(
            targets.workspace_id,
            roles.AZURE_ML_DATA_SCIENTIST,
            "make aml-train, model-validation, register-aml, export-model; blue-green and integration-aml",
        ),
        "aks-user": grant(
            targets.cluster_id, roles.AKS_CLUSTER_USER, "make kube-login (az aks get-credentials)"
        ),
        # Application Insights has local auth off: ingestion takes Entra ID tokens of identities that hold
        # this role on the resource ("Although the Monitoring Metrics Publisher role says 'metrics,' it will
        # publish all telemetry", learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication).
        "telemetry-publisher": grant(
            targets.app_insights_id,
            roles.MONITORING_METRICS_PUBLISHER,
            "make notify-failure (the pipeline_failed event); the training and drift steps' telemetry",
        ),
    }
    if targets.vault_linked:
        grants["secrets-user"] = grant(
            targets.vault_id,
            roles.KEY_VAULT_SECRETS_USER,
            "Azure DevOps reads the linked variable group's secrets through this connection",
        )
    for namespace in targets.namespaces:
        grants[f"kube-{namespace}"] = RoleGrant(
            pulumi.Output.from_input(targets.cluster_id).apply(
                lambda cluster, ns=namespace: f"{cluster}/namespaces/{ns}"
            ),
            pulumi.Output.from_input(targets.kube_role_guid).apply(
                lambda guid: roles.definition_id_of(targets.subscription_id, guid)
            ),
            "make wait-rollout and integration-aks in the project's namespace",
        )
    for slug, identity_id in sorted(targets.service_identity_ids.items()):
        # Creating an endpoint that runs as a user-assigned identity is that identity's assign/action
        # (concept-endpoints-online-auth: a UAI is "associate[d] ... with the endpoint when you create" it).
        grants[f"serving-identity-{slug}"] = RoleGrant(
            identity_id,
            pulumi.Output.from_input(targets.serving_identity_role_guid).apply(
                lambda guid: roles.definition_id_of(targets.subscription_id, guid)
            ),
            f"make blue-green gives {slug}'s Azure ML endpoint its serving identity",
        )
    if first:
        grants["registry-tasks"] = grant(
            targets.registry_id,
            roles.ACR_TASKS_CONTRIBUTOR,
            "make build-image (az acr build is an ACR Tasks run)",
        )
        grants["workspace-storage"] = grant(
            targets.storage_account_id,
            roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
            "make aml-train uploads the code snapshot; register-aml and export-model write, read the model",
        )
        grants["dvc-read"] = grant(
            targets.dvc_container_id, roles.STORAGE_BLOB_DATA_READER, "make data-pull (DVC remote `azure`)"
        )
    else:
        assert targets.previous_registry_id is not None, "every environment but the first has a previous one"
        grants["registry-import"] = grant(
            targets.registry_id, roles.ACR_IMPORTER, "make promote-image imports into this registry"
        )
        grants["previous-registry-import"] = grant(
            targets.previous_registry_id, roles.ACR_IMPORTER, "make promote-image reads the image it imports"
        )
    if last and not first:
        # (In a one-environment setup `dvc-read` already covers both.)
        grants["scoring-data"] = grant(
            targets.dvc_container_id, roles.STORAGE_BLOB_DATA_READER, "make drift-data (the scored records)"
        )
        # aml-endpoint projects: Azure ML's data collector writes to the workspace's blob store (its container
        # is named by Azure ML, azureml-blobstore-<workspace id>), so the account is the narrowest scope known
        # here (how-to-collect-production-data, "Blob storage output/format").
        grants["inference-data"] = grant(
            targets.storage_account_id,
            roles.STORAGE_BLOB_DATA_READER,
            "make drift-data with aml-endpoint (the data collector's files in the workspace's blob store)",
        )
        assert targets.first_dvc_container_id is not None
        grants["first-dvc-read"] = grant(
            targets.first_dvc_container_id,
            roles.STORAGE_BLOB_DATA_READER,
            "make data-pull in the drift pipeline (the training reference lives with the first environment)",
        )
    return grants


def stack_references_needed(environment: str) -> Mapping[str, str]:
    """Earlier environments whose outputs the grants read, by role: the previous one and the first one."""
    position = ENVIRONMENTS.index(environment)
    needed = {}
    if position > 0:
        needed["previous"] = ENVIRONMENTS[position - 1]
        needed["first"] = ENVIRONMENTS[0]
    return needed
