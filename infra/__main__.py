"""Composition root: `pulumi up -s shared|dev|qa|prod` runs this with infra/ as the program directory."""

import sys
from pathlib import Path

# The Pulumi CLI puts infra/ itself on sys.path; the program imports itself as the `infra` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import main

main()
