"""Facts of Managed DevOps Pools that the program, the guardrails and the preflight share.

Sources: azure-devops-docs `docs/managed-devops-pools/` (configure-images.md, configure-networking.md,
demands.md, prerequisites.md) and the 2025-01-21 API (`Microsoft.DevOpsInfrastructure/pools`).
"""

from typing import Final

POOL: Final = "azure-native:devopsinfrastructure:Pool"
DEV_CENTER: Final = "azure-native:devcenter:DevCenter"
DEV_CENTER_PROJECT: Final = "azure-native:devcenter:Project"

# "The subnet needs to be delegated to the Microsoft.DevOpsInfrastructure/pools ... for exclusive access for
# the pool and the subnet can't be used by other pools or resources" (configure-networking.md).
SUBNET_DELEGATION: Final = "Microsoft.DevOpsInfrastructure/pools"

# Azure Pipelines images: "the same software as selected Microsoft-hosted agents"; a `wellKnownImageName` is
# an image's predefined alias with an optional version, `ubuntu-24.04/latest` (configure-images.md).
AZURE_PIPELINES_UBUNTU_IMAGES: Final = ("ubuntu-24.04", "ubuntu-22.04")
ENVIRONMENT_POOL_IMAGE: Final = "ubuntu-24.04/latest"
LATEST: Final = "latest"

# A pipeline picks one of a pool's images with this demand and the image's alias; without it the job runs on
# the first image listed (demands.md, configure-images.md "Use multiple images per pool").
IMAGE_OVERRIDE: Final = "ImageOverride"


def predefined_alias(well_known_image_name: str) -> str:
    """The alias an Azure Pipelines image answers to: its name without the version."""
    return well_known_image_name.partition("/")[0]
