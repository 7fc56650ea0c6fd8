"""Required tags on every Azure resource that takes tags."""

import importlib
import inspect
from collections.abc import Mapping
from functools import cache
from typing import Final, get_overloads

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from infra.config import TAG_KEYS
from infra.policies.props import at, label

# The keys the program writes on every resource (infra/config.py, the one place they are named).
REQUIRED_TAGS: Final = TAG_KEYS
_PROVIDER: Final = "azure-native"


@cache
def takes_tags(resource_type: str) -> bool:
    """A resource is taggable when its input schema has `tags`: read from the SDK class the program used.

    "azure-native:keyvault:Vault" is pulumi_azure_native.keyvault.Vault. Its public constructor is
    overloaded: one form takes every input of the schema as a keyword, the other an args object.
    """
    provider, module, name = resource_type.split(":")
    if provider != _PROVIDER:
        return False
    sdk = importlib.import_module(f"pulumi_azure_native.{module.replace('/', '.')}")
    forms = get_overloads(getattr(sdk, name).__init__)
    if not forms:
        raise LookupError(f"{resource_type}: the SDK class declares no constructor forms to read inputs from")
    return any("tags" in inspect.signature(form).parameters for form in forms)


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not takes_tags(args.resource_type):
        return
    tags = at(args.props, "tags")
    present = tags if isinstance(tags, Mapping) else {}
    missing = [key for key in REQUIRED_TAGS if not (isinstance(present.get(key), str) and present.get(key))]
    if missing:
        report_violation(
            f"{label(args)}: every Azure resource carries the tags {', '.join(REQUIRED_TAGS)} "
            f"(missing or empty: {', '.join(missing)})",
            None,
        )


REQUIRED_TAGS_POLICY: Final = ResourceValidationPolicy(
    name="required-tags",
    description=f"Every taggable Azure resource carries the tags {', '.join(REQUIRED_TAGS)}.",
    validate=_validate,
    enforcement_level=EnforcementLevel.MANDATORY,
)
