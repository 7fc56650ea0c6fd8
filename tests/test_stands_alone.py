"""A user's clone has nothing beside it: everything the project reads at run or test time is inside."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from infra.stacks import ENVIRONMENTS
from infra.tools.mock_run import REPO_ROOT
from tests.user_environment import user_environment

# Built here so this file does not match itself.
OUTSIDE = re.compile(
    "|".join([re.escape("../" + "shared"), "mlops-" + "shared", re.escape("parent / " + '"shared"')])
)
# The tests that read vendored files, run inside the copy: the CRDs are every cluster's, so one cluster's
# validation reads all of them (each cluster's render costs seconds; the main session validates all three).
VENDORED_SUITES = (
    "tests/vendor",
    f"tests/gitops/test_gitops_clusters.py::test_every_object_validates[{ENVIRONMENTS[0]}]",
    "tests/gitops/test_gitops_validators_fail.py",
)


def checkout_files() -> list[str]:
    """What a clone of this working tree holds: tracked files and new files git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [name for name in listed.decode().split("\0") if name and (REPO_ROOT / name).is_file()]


def test_nothing_refers_to_a_folder_beside_the_repository() -> None:
    found = [
        f"{name}:{number}: {line.strip()}"
        for name in checkout_files()
        if not name.endswith((".csv", ".lock", ".json"))
        for number, line in enumerate((REPO_ROOT / name).read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_vendored_suites_pass_in_a_copy_with_nothing_beside_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    clone = empty / "mlops-platform"
    for name in checkout_files():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    assert [path.name for path in empty.iterdir()] == [clone.name]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *VENDORED_SUITES],
        cwd=clone,
        env=user_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
