"""Release tags: `<commit>-m<model version>`, so an image names the code and the model it carries."""

import re
from dataclasses import dataclass

TAG = re.compile(r"^(?P<commit>[0-9a-f]{7,40})-m(?P<model_version>[1-9][0-9]*)$")


class TagError(ValueError):
    """Not a release tag; the message says what a good one looks like."""


@dataclass(frozen=True)
class ReleaseTag:
    commit: str
    model_version: str

    def __str__(self) -> str:
        return f"{self.commit}-m{self.model_version}"


def compose(commit: str, model_version: str | int | None) -> ReleaseTag:
    if model_version in (None, ""):
        raise TagError("no model version: register a model (make register) or pass MODEL_VERSION")
    return parse(f"{commit[:12]}-m{model_version}")


def parse(tag: str) -> ReleaseTag:
    match = TAG.match(tag)
    if match is None:
        raise TagError(
            f"malformed release tag {tag!r}: expected <commit, 7-40 hex>-m<model version>, e.g. 1a2b3c4-m7"
        )
    return ReleaseTag(match["commit"], match["model_version"])
