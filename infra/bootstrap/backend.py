"""Where Pulumi keeps state and encrypts secrets: the backend infra/bootstrap/state_backend.sh creates in the
bootstrap stack's subscription, named by infra/naming.py PlatformNames.

    python -m infra.bootstrap.backend      # shell assignments for `make bootstrap`
"""

import shlex
import sys
from pathlib import Path

from infra import naming
from infra.config import AZURE, PROJECT
from infra.stacks import BOOTSTRAP
from infra.tools import stack_config
from infra.tools.mock_run import REPO_ROOT


def assignments(root: Path = REPO_ROOT) -> dict[str, str]:
    config = stack_config.load(BOOTSTRAP, root)
    subscription = config[f"{AZURE}:subscriptionId"]
    prefix = config[f"{PROJECT}:prefix"]
    names = naming.PlatformNames(prefix, subscription)
    return {
        "STATE_SUBSCRIPTION": subscription,
        "STATE_LOCATION": config[f"{AZURE}:location"],
        "PREFIX": prefix,
        "STATE_ACCOUNT": names.state_account,
        "BACKEND_URL": f"azblob://{names.state_container}?storage_account={names.state_account}",
        "SECRETS_PROVIDER": f"azurekeyvault://{names.state_vault}.vault.azure.net/keys/{names.state_key}",
    }


def main() -> int:
    print("\n".join(f"{key}={shlex.quote(value)}" for key, value in assignments().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
