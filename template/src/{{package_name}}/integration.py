"""Integration test of a deployed service: it is ready, scores sample records, and refuses a bad one.

    python -m <package>.integration --url http://127.0.0.1:8080 [--path-prefix /score]

A key for a managed online endpoint comes from the SCORING_KEY environment variable, never an argument.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from .schema import FEATURE_NAMES, ID, SCORE


class IntegrationFailed(AssertionError):
    """The service answered, but not as it should."""


def call(url: str, body: object | None = None, key: str | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def check(base: str, records: list[dict], key: str | None = None, probe_readiness: bool = True) -> list[str]:
    """Returns what was checked; raises IntegrationFailed on the first wrong answer."""
    checked = []
    if probe_readiness:
        status, _ = call(f"{base}/ready", key=key)
        if status != 200:
            raise IntegrationFailed(f"/ready answered {status}")
        checked.append("ready")
    status, body = call(f"{base}/score", records, key=key)
    if status != 200 or len(body["predictions"]) != len(records):
        raise IntegrationFailed(f"/score answered {status}: {body}")
    if not all(0 <= p[SCORE.name] <= 1 for p in body["predictions"]):
        raise IntegrationFailed(f"/score gave a probability outside [0, 1]: {body}")
    checked.append(f"scored {len(records)} records")
    status, body = call(f"{base}/score", {**records[0], "age": -1}, key=key)
    if status != 422 or "age" not in json.dumps(body):
        raise IntegrationFailed(f"a bad record got {status}: {body}")
    checked.append("bad record refused with 422 naming the field")
    return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL of the service")
    parser.add_argument("--sample", type=Path, default=Path("data/sample.csv"))
    parser.add_argument("--records", type=int, default=5)
    parser.add_argument("--no-readiness", action="store_true", help="for endpoints that expose only /score")
    args = parser.parse_args(argv)
    records = pd.read_csv(args.sample).head(args.records)[[ID.name, *FEATURE_NAMES]].to_dict(orient="records")
    try:
        checked = check(args.url.rstrip("/"), records, os.environ.get("SCORING_KEY"), not args.no_readiness)
    except (IntegrationFailed, OSError) as failure:
        print(f"integration: {failure}", file=sys.stderr)
        return 1
    print("\n".join(checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
