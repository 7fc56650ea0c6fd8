"""Entry point of the policy pack: `pulumi preview --policy-pack infra/policies`.

The engine starts the pack from this folder (python -m pulumi.policy <engine> .), so the repository
root is put on the import path first: the policies import `infra.*` like the program does.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policies.policies import POLICIES

PolicyPack(
    name="mlops-platform",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
)
