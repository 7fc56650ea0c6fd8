"""Refresh the vendored upstream files from the releases pinned in `vendor/pins.json`.

`python -m vendor.refresh` downloads each pinned file from GitHub, builds what the repository keeps from it
(the CRDs byte for byte; the role definitions in the preflight's shape) and writes it only when its digest
is the one pinned. To move to a newer upstream release, change `commit` (and `ref`) in pins.json, run
`python -m vendor.refresh --update`, and review the diff: it rewrites the pinned digests too.
"""

import argparse
import hashlib
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent
PINS = VENDOR / "pins.json"
RAW = "https://raw.githubusercontent.com/{repository}/{commit}/{source}"
PERMISSION_LISTS = ("actions", "notActions", "dataActions", "notDataActions")


def pins() -> list[dict[str, Any]]:
    return json.loads(PINS.read_text())["files"]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def role_definitions(raw: Iterable[Mapping[str, Any]], header: str, supplement: Mapping[str, Any]) -> bytes:
    """`az role definition list` output as one entry per built-in role name.

    Several permission blocks are concatenated (duplicates dropped, first kept) and counted in
    `permissionBlocks`; ABAC conditions are kept under `conditions` with the lists they apply to, since the
    merged lists overstate what such a role allows. `supplement` adds roles the dataset lacks.
    """
    roles: dict[str, dict[str, Any]] = {}
    for definition in raw:
        if definition.get("roleType") != "BuiltInRole":
            continue
        blocks = definition["permissions"]
        entry: dict[str, Any] = {"id": definition["name"], "description": definition["description"]}
        for key in PERMISSION_LISTS:
            entry[key] = list(dict.fromkeys(item for block in blocks for item in block[key]))
        conditions = [
            {
                "condition": block["condition"],
                "conditionVersion": block["conditionVersion"],
                "appliesTo": {key: block[key] for key in PERMISSION_LISTS},
            }
            for block in blocks
            if block.get("condition")
        ]
        if conditions:
            entry["conditions"] = conditions
        if len(blocks) > 1:
            entry["permissionBlocks"] = len(blocks)
        roles[definition["roleName"]] = entry
    roles.update(supplement)
    document = {"source": header, "roles": dict(sorted(roles.items(), key=lambda item: item[0].lower()))}
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


# A section of the workspace-based Application Insights schema page: `#### <table>`, `Legacy table: <name>`,
# then a table of `|classic column|type|workspace column|type|` rows.
_TABLE_SECTION = re.compile(r"^#### (?P<table>App\w+)\s*\n+Legacy table: (?P<legacy>\w+)\s*\n", re.MULTILINE)
_ROW = re.compile(r"^\|(?P<classic>[^|]+)\|(?P<classic_type>[^|]*)\|(?P<column>[^|]+)\|(?P<type>[^|]*)\|\s*$")


def app_tables(page: str, header: str, tables: Iterable[str]) -> bytes:
    """The columns of the named Application Insights tables, in the workspace (Log Analytics) schema and the
    classic one, from the page that maps one onto the other (convert-classic-resource.md, "Table schemas").
    Columns the page marks "(removed)" exist in the classic schema only."""
    sections = {match.group("table"): match for match in _TABLE_SECTION.finditer(page)}
    workspace: dict[str, Any] = {}
    classic: dict[str, Any] = {}
    for table in tables:
        if table not in sections:
            raise SystemExit(f"the page has no section for table {table}")
        match = sections[table]
        end = page.find("\n#", match.end())
        columns: dict[str, str] = {}
        legacy: dict[str, str] = {}
        for line in page[match.end() : end if end != -1 else len(page)].splitlines():
            row = _ROW.match(line.strip())
            if row is None or row.group("classic").startswith((":", "ApplicationInsights")):
                continue
            name = row.group("classic").strip("` ")
            legacy[name] = row.group("classic_type").strip().lower()
            column = row.group("column").strip("` \\")
            if column != "(removed)":
                columns[column] = row.group("type").strip().lower()
        workspace[table] = {"classic": match.group("legacy"), "columns": dict(sorted(columns.items()))}
        classic[match.group("legacy")] = {"columns": dict(sorted(legacy.items()))}
    document = {"source": header, "workspace": workspace, "classic": classic}
    return (json.dumps(document, indent=1) + "\n").encode()


def build(pin: Mapping[str, Any], upstream: bytes) -> bytes:
    if pin.get("transform") == "roles":
        supplement = json.loads((VENDOR / pin["supplement"]).read_text())
        return role_definitions(json.loads(upstream), pin["header"], supplement)
    if pin.get("transform") == "app-tables":
        return app_tables(upstream.decode(), pin["header"], pin["tables"])
    return upstream


def download(pin: Mapping[str, Any]) -> bytes:
    url = RAW.format(**pin)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError) as error:
        raise SystemExit(f"cannot download {url} ({error}): refresh needs access to GitHub") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--update", action="store_true", help="accept new upstream content and pin its digests"
    )
    args = parser.parse_args(argv)
    entries = pins()
    for pin in entries:
        upstream = download(pin)
        built = build(pin, upstream)
        if not args.update:
            mismatches = [
                f"{key} {digest(data)} != pinned {pin[key]}"
                for key, data in (("source_sha256", upstream), ("sha256", built))
                if key in pin and digest(data) != pin[key]
            ]
            if mismatches:
                print(f"{pin['path']}: " + "; ".join(mismatches), file=sys.stderr)
                return 1
        elif "source_sha256" in pin:
            pin["source_sha256"] = digest(upstream)
        pin["sha256"] = digest(built)
        (VENDOR / pin["path"]).write_bytes(built)
        print(f"{pin['path']}: {pin['repository']}@{pin['ref']} ({pin['commit'][:12]})")
    if args.update:
        PINS.write_text(json.dumps({"files": entries}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
