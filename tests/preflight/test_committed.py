"""`make preflight` on the committed stacks and both serving targets: every operation granted, every role
assignment used or explained, and the reports written in their documented shape."""

import json
from pathlib import Path

from infra.preflight.__main__ import main
from infra.preflight.run import Result

ENTRY_KEYS = ["stack", "pipeline", "stage", "step", "identity", "operation", "resource", "granted_by", "ok"]


def test_committed_platform_passes_and_writes_its_reports(tmp_path: Path, capsys) -> None:
    assert main(["--out-dir", str(tmp_path)]) == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "preflight.json").read_text())
    entries = document["entries"]
    assert len(entries) > 500
    assert all(list(entry) == ENTRY_KEYS for entry in entries)
    assert all(entry["ok"] and set(entry["granted_by"]) == {"role", "scope"} for entry in entries)
    pipelines = {entry["pipeline"].split(" ")[-1] for entry in entries}
    for pipeline in ("azure-pipelines.yml", ".azure-pipelines/retrain.yml", ".azure-pipelines/drift.yml"):
        assert pipeline in pipelines
    for pipeline in (
        "pipelines/pr.yml",
        "pipelines/deploy.yml",
        "pipelines/drift.yml",
        "pipelines/template.yml",
    ):
        assert pipeline in pipelines
    # Only the runtime identities' grants are used by no step, each saying what needs it.
    assert document["unused_assignments"]
    assert all(assignment["reason"] for assignment in document["unused_assignments"])
    report = (tmp_path / "preflight.md").read_text()
    assert "0 refused" in report and "Role assignments no pipeline step uses" in report


def test_an_unexplained_unused_assignment_fails_the_result() -> None:
    from infra.preflight.rbac import Assignment
    from infra.roles import RoleDefinitions

    reader = RoleDefinitions.load().by_name("Reader")
    result = Result(entries=[], unused=[Assignment("p", reader, "/subscriptions/s", "dev", description="")])
    assert not result.ok
    assert Result(entries=[], unused=[Assignment("p", reader, "/subscriptions/s", "dev", "why")]).ok


def test_preview_identities_can_write_nothing(runs) -> None:
    """What the read-only identities hold reads (and decrypts) only, whatever it is assigned on."""
    from infra.naming import PREVIEW_SUFFIX
    from infra.preflight.platform import Platform

    platform = Platform.from_runs(runs)
    previews = {c.principal for c in platform.connections.values() if c.name.endswith(PREVIEW_SUFFIX)}
    assert len(previews) == 4
    held = [a for a in platform.assignments if a.principal in previews]
    patterns = {pattern for a in held for pattern in (*a.role.actions, *a.role.data_actions)}
    # Storage Blob Data Reader's user delegation key signs read-only SAS: no data can be written with it.
    harmless = ("/read", "/decrypt/action", "/generateUserDelegationKey/action")
    assert patterns and all(p.endswith(harmless) for p in patterns), patterns
    deploys = {c.principal for c in platform.connections.values() if "-platform-" in c.name} - previews
    deploy_patterns = {p for a in platform.assignments if a.principal in deploys for p in a.role.actions}
    assert not all(p.endswith("/read") for p in deploy_patterns)
