"""`make preflight`: walk the whole delivery path offline and check every operation against the real rules.

Runs the program of every stack under mocks with the committed stack files, renders one project per serving
target from the resulting platform.json, walks every stage and step of the generated pipelines (main, retrain,
drift) and of this repository's `pipelines/`, and evaluates each operation: Azure RBAC with Azure's built-in
role definitions, Azure DevOps branch policies, permissions, pipeline authorizations and environment checks,
creation order. Writes build/preflight.json and build/preflight.md; exits 1 naming every operation nothing
grants and every role assignment that nothing uses and nothing explains.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from infra.preflight import report
from infra.preflight.run import preflight
from infra.tools.mock_run import REPO_ROOT


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "build")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = preflight()
    elapsed = time.perf_counter() - started
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "preflight.json").write_text(report.as_json(result))
    (args.out_dir / "preflight.md").write_text(report.as_markdown(result, elapsed))
    for line in report.failures(result):
        print(f"preflight: {line}", file=sys.stderr)
    print(report.summary(result, elapsed))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
