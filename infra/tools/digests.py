"""Digests that tell byte-identical inputs apart from any others."""

import hashlib
from collections.abc import Mapping


def content_digest(files: Mapping[str, bytes]) -> str:
    """One digest of names and contents: equal digests, byte-identical inputs."""
    digest = hashlib.sha256()
    for name in sorted(files):
        for part in (name.encode(), files[name]):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()
