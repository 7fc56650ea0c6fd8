import pytest

from infra.components.defender import PLANS, STANDARD, DefenderPlans, DefenderPlansArgs
from tests.infra.component_mocks import SUBSCRIPTION, Recorder, resolve

PRICING = "azure-native:security:Pricing"


def assert_on(plans: dict[str, str]) -> None:
    assert plans == dict.fromkeys(("Containers", "KeyVaults", "StorageAccounts"), STANDARD)


def test_three_plans_on_for_the_subscription(recorder: Recorder) -> None:
    resolve(lambda: DefenderPlans("defender", DefenderPlansArgs(SUBSCRIPTION)).plan_ids)
    pricings = {p.inputs["pricingName"]: p.inputs for p in recorder.of_type(PRICING)}
    assert_on({name: inputs["pricingTier"] for name, inputs in pricings.items()})
    assert all(inputs["scopeId"] == f"subscriptions/{SUBSCRIPTION}" for inputs in pricings.values())
    assert pricings["KeyVaults"]["subPlan"] == PLANS["KeyVaults"] == "PerKeyVault"
    assert "subPlan" not in pricings["Containers"]


def test_destroying_the_stack_leaves_the_plans_to_azure(recorder: Recorder) -> None:
    # Azure answers DELETE on a subscription's plan with 400: the stack forgets the plans instead.
    resolve(lambda: DefenderPlans("defender", DefenderPlansArgs(SUBSCRIPTION)).plan_ids)
    requests = recorder.requests(PRICING)
    assert len(requests) == len(PLANS) and all(r.retainOnDelete for r in requests)


def test_check_rejects_a_free_plan() -> None:
    with pytest.raises(AssertionError):
        assert_on({"Containers": "Free", "KeyVaults": STANDARD, "StorageAccounts": STANDARD})
