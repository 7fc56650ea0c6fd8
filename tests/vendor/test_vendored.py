"""The vendored upstream files are exactly the pinned ones, and the refresh keeps them so."""

import json
from pathlib import Path

import pytest

from vendor import refresh


@pytest.mark.parametrize("pin", refresh.pins(), ids=lambda pin: pin["path"])
def test_vendored_file_is_the_pinned_one(pin: dict) -> None:
    data = (refresh.VENDOR / pin["path"]).read_bytes()
    upstream = f"{pin['repository']}@{pin['commit']}"
    assert refresh.digest(data) == pin["sha256"], f"{pin['path']} differs from {upstream}"
    assert len(pin["commit"]) == 40


def test_every_vendored_data_file_is_pinned() -> None:
    pins = refresh.pins()
    pinned = {pin["path"] for pin in pins} | {pin["supplement"] for pin in pins if "supplement" in pin}
    kept = {
        path.relative_to(refresh.VENDOR).as_posix()
        for path in refresh.VENDOR.rglob("*")
        if path.is_file() and path.suffix in (".json", ".yaml") and path != refresh.PINS
    }
    assert kept == pinned


def _definition(name: str, role_id: str, *blocks: dict, role_type: str = "BuiltInRole") -> dict:
    empty = {key: [] for key in refresh.PERMISSION_LISTS}
    return {
        "roleName": name,
        "name": role_id,
        "description": f"{name} role",
        "roleType": role_type,
        "permissions": [{**empty, "condition": None, "conditionVersion": None, **block} for block in blocks],
    }


def test_role_definitions_merge_blocks_keep_conditions_and_sort() -> None:
    guard = {"actions": ["Z/write"], "condition": "@Resource[x] == 1", "conditionVersion": "2.0"}
    raw = [
        _definition("b writer", "2", {"actions": ["X/write", "X/read"]}, {"actions": ["X/read", "Y/*"]}),
        _definition("A guarded", "1", guard),
        _definition("custom", "3", {"actions": ["*"]}, role_type="CustomRole"),
    ]
    extra = {"C docs": {"id": "4", "description": "from the docs"}}
    document = json.loads(refresh.role_definitions(raw, "header", extra))
    assert document["source"] == "header"
    assert list(document["roles"]) == ["A guarded", "b writer", "C docs"]
    writer = document["roles"]["b writer"]
    assert writer["actions"] == ["X/write", "X/read", "Y/*"]
    assert writer["permissionBlocks"] == 2 and "conditions" not in writer
    guarded = document["roles"]["A guarded"]
    assert guarded["conditions"][0]["appliesTo"]["actions"] == ["Z/write"]
    assert "permissionBlocks" not in guarded


def test_refresh_refuses_content_that_is_not_the_pinned_release(monkeypatch: pytest.MonkeyPatch) -> None:
    pin = next(pin for pin in refresh.pins() if pin["path"].startswith("crds/"))
    before = (refresh.VENDOR / pin["path"]).read_bytes()
    monkeypatch.setattr(refresh, "pins", lambda: [dict(pin)])
    monkeypatch.setattr(refresh, "download", lambda _pin: before + b"# changed upstream\n")
    assert refresh.main([]) == 1
    assert (refresh.VENDOR / pin["path"]).read_bytes() == before


def test_refresh_accepts_the_pinned_release(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    pin = next(pin for pin in refresh.pins() if pin["path"].startswith("crds/"))
    before = (refresh.VENDOR / pin["path"]).read_bytes()
    monkeypatch.setattr(refresh, "pins", lambda: [dict(pin)])
    monkeypatch.setattr(refresh, "download", lambda _pin: before)
    assert refresh.main([]) == 0
    assert pin["commit"][:12] in capsys.readouterr().out


def test_download_failure_names_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str, timeout: float):
        raise refresh.urllib.error.URLError("no route")

    monkeypatch.setattr(refresh.urllib.request, "urlopen", refuse)
    with pytest.raises(SystemExit, match=r"raw\.githubusercontent\.com/fluxcd"):
        refresh.download(refresh.pins()[0])


def test_vendor_readmes_name_every_pinned_commit() -> None:
    text = "\n".join(path.read_text() for path in Path(refresh.VENDOR).rglob("README.md"))
    for pin in refresh.pins():
        assert pin["commit"][:8] in text, pin["path"]


def test_app_tables_take_both_schemas_and_drop_removed_columns() -> None:
    page = (
        "#### AppMetrics\n\nLegacy table: customMetrics\n\n"
        "|ApplicationInsights|Type|LogAnalytics|Type|\n|:---|:---|:---|:---|\n"
        "|cloud_RoleName|string|AppRoleName|string|\n|`iKey`|string|`IKey`|string|\n"
        "|value|real|(removed)||\n|valueSum|real|Sum|real|\n\n#### AppOther\n\nLegacy table: other\n\n"
        "|x|string|X|string|\n"
    )
    document = json.loads(refresh.app_tables(page, "header", ["AppMetrics"]))
    assert document["workspace"] == {
        "AppMetrics": {
            "classic": "customMetrics",
            "columns": {"AppRoleName": "string", "IKey": "string", "Sum": "real"},
        }
    }
    assert document["classic"]["customMetrics"]["columns"]["value"] == "real"
    with pytest.raises(SystemExit, match="AppMissing"):
        refresh.app_tables(page, "header", ["AppMissing"])
