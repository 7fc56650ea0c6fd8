"""The offline run itself: the speed-ups (cached runs of the stacks deployed before, rare collections)
declare exactly what the plain path declares: every stack run afresh, in deploy order, default collector."""

import base64
import dataclasses
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pulumi.runtime.mocks import MockCallArgs

from infra.stacks import ENVIRONMENTS, EVERY, SHARED
from infra.tools import mock_run
from infra.tools.mock_run import (
    REPO_ROOT,
    RUN_STORE_VARIABLE,
    DeclaredResource,
    PlatformMocks,
    StackRun,
    copy_program,
    program_digest,
    run_stack,
    run_stacks,
)
from tests.template.once import made_once_value, session_folder


def by_urn(run: StackRun) -> dict[str, DeclaredResource]:
    return {resource.urn: resource for resource in run.resources}


@dataclass
class Spied:
    runs: dict[str, StackRun]
    thresholds: list[tuple[int, ...]]


def spied_runs() -> Spied:
    """The plain runs of every stack, made with the collector's thresholds and the run cache watched."""
    thresholds: list[tuple[int, ...]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gc, "set_threshold", lambda *values: thresholds.append(values))
        before = mock_run._deployed_run.cache_info()
        runs = run_stacks(EVERY, plain=True)
        after = mock_run._deployed_run.cache_info()
    assert (after.hits, after.misses) == (before.hits, before.misses), "the plain path used the cache"
    return Spied(runs, thresholds)


@pytest.fixture(scope="module")
def spied(tmp_path_factory: pytest.TempPathFactory) -> Spied:
    """spied_runs(), made once a session (18 s): every pytest-xdist worker that runs a test of this module
    would make them again; the others read the first one's back."""
    return made_once_value(session_folder(tmp_path_factory) / "plain-runs", spied_runs)


@pytest.fixture(scope="module")
def plain(spied: Spied) -> dict[str, StackRun]:
    return spied.runs


def assert_same_runs(runs: dict[str, StackRun], reference: dict[str, StackRun]) -> None:
    for stack, run in runs.items():
        assert by_urn(run) == by_urn(reference[stack]), f"stack {stack} declares something else"
        assert run.outputs == reference[stack].outputs, f"stack {stack} exports something else"


def test_fast_runs_equal_plain_runs(plain: dict[str, StackRun]) -> None:
    fast = run_stacks(EVERY)
    assert list(fast) == list(plain) == list(EVERY)
    assert_same_runs(fast, plain)


def test_environment_stacks_without_shared_run_in_the_order_asked(plain: dict[str, StackRun]) -> None:
    # `shared` is not asked for: its outputs still reach every environment's StackReference.
    stacks = list(reversed(ENVIRONMENTS))
    runs = run_stacks(stacks)
    assert list(runs) == stacks
    assert_same_runs(runs, plain)


def test_one_stack_alone_equals_its_plain_run(plain: dict[str, StackRun]) -> None:
    assert_same_runs({"qa": run_stack("qa")}, plain)


def test_the_comparison_sees_a_different_run(plain: dict[str, StackRun]) -> None:
    with pytest.raises(AssertionError, match="stack qa declares something else"):
        assert_same_runs({"qa": plain["dev"]}, plain)


def test_the_plain_path_leaves_the_collector_alone_and_the_fast_path_tunes_it(
    spied: Spied, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert list(spied.runs) == list(EVERY) and spied.thresholds == []
    # The same spy catches the fast path: a run the cache cannot answer (a transformation) collects rarely.
    thresholds: list[tuple[int, ...]] = []
    monkeypatch.setattr(gc, "set_threshold", lambda *values: thresholds.append(values))
    run_stack("dev", transformations=[lambda args: None])
    assert mock_run.RUN_GC_THRESHOLD in {values[0] for values in thresholds}


def test_the_fast_path_answers_a_repeated_stack_from_the_cache() -> None:
    run_stack("qa")
    before = mock_run._deployed_run.cache_info()
    assert run_stack("qa") is run_stack("qa")
    assert mock_run._deployed_run.cache_info().hits == before.hits + 2


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    """No run of this process's cache: a test that reads a changed store leaves nothing of it behind."""
    mock_run._deployed_run.cache_clear()
    yield
    mock_run._deployed_run.cache_clear()


def test_a_run_is_kept_in_the_store_and_read_back_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    monkeypatch.setenv(RUN_STORE_VARIABLE, str(tmp_path))
    made = run_stack(EVERY[0])
    (kept,) = tmp_path.glob("*.json")
    assert StackRun.from_json(kept.read_text()) == made
    # Another process asking reads the file: here, one this process has not made.
    kept.write_text(dataclasses.replace(made, outputs={"read": "back"}).to_json())
    mock_run._deployed_run.cache_clear()
    assert run_stack(EVERY[0]).outputs == {"read": "back"}


def test_the_store_key_changes_with_any_file_the_program_reads(tmp_path: Path) -> None:
    copy_program(tmp_path)
    before = program_digest(tmp_path)
    assert program_digest(REPO_ROOT) == before
    (tmp_path / "infra" / "__pycache__").mkdir()
    (tmp_path / "infra" / "__pycache__" / "stale.pyc").write_bytes(b"not read")
    assert program_digest(tmp_path) == before
    with (tmp_path / "Pulumi.dev.yaml").open("a") as config:
        config.write("# an edit\n")
    assert program_digest(tmp_path) != before


def test_repeated_stacks_run_once() -> None:
    assert list(run_stacks(["qa", "qa", SHARED])) == ["qa", SHARED]


def test_the_user_credential_is_what_aks_answers_for_an_entra_cluster() -> None:
    mocks = PlatformMocks("dev", "sub", references={})
    answer, _ = mocks.call(
        MockCallArgs(
            "azure-native:containerservice:listManagedClusterUserCredentials",
            {"resourceGroupName": "rg-mlops-dev", "resourceName": "aks-mlops-dev"},
            "",
        )
    )
    (credential,) = answer["kubeconfigs"]
    config = yaml.safe_load(base64.b64decode(credential["value"]))
    (user,) = config["users"]
    # A device-code kubelogin user and no static credential: local accounts are off.
    assert user["user"]["exec"]["args"][-2:] == ["--login", "devicecode"]
    assert set(user["user"]) == {"exec"}
    assert config["clusters"][0]["cluster"]["server"].startswith("https://aks-mlops-dev")


def test_resources_through_an_explicit_provider_live_in_its_subscription() -> None:
    bootstrap_subscription = run_stack("bootstrap").outputs["flux_identities"]["dev"]["subscription_id"]
    run = run_stack("dev")
    (federation,) = [r for r in run.resources if r.name == "gitops-flux-federation"]
    assert federation.provider and federation.id.startswith(f"/subscriptions/{bootstrap_subscription}/")
    # Everything without one lives in the stack's own subscription.
    others = [r for r in run.of_type(federation.type) if not r.provider]
    assert others and all(
        r.id.startswith(f"/subscriptions/{run.outputs['subscription_id']}/") for r in others
    )
