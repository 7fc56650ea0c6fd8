"""The drift report a person looks at: a chart per drifted column, reference against current, and a table of
every PSI, as Markdown beside its PNGs (artifacts/drift/). matplotlib draws off screen (Agg)."""

from pathlib import Path

import pandas as pd

from .drift import DriftReport, feature_shares, numeric_edges
from .schema import FEATURES

REPORT = "report.md"


def labels(reference: pd.DataFrame, name: str) -> list[str]:
    """Categories, or the reference's decile bins by their upper edge."""
    column = next((column for column in FEATURES if column.name == name), None)
    if column is not None and column.categories:
        return [str(category) for category in column.categories]
    edges = numeric_edges(reference[name].astype(float))
    return [f"<= {edge:.3g}" for edge in edges[1:-1]] + [f"> {edges[-2]:.3g}"]


def chart(reference: pd.DataFrame, current: pd.DataFrame, name: str, value: float, target: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    before, after = feature_shares(reference, current, name)
    positions = np.arange(len(before))
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.bar(positions - 0.2, before, width=0.4, label="training reference")
    axes.bar(positions + 0.2, after, width=0.4, label="current window")
    axes.set_xticks(positions, labels(reference, name), rotation=30, ha="right")
    axes.set_ylabel("share of records")
    axes.set_title(f"{name}: PSI {value:.3f}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=80)
    plt.close(figure)
    return target


def write(
    folder: Path, reference: pd.DataFrame, current: pd.DataFrame, result: DriftReport, heading: str
) -> Path:
    """report.md and one PNG per drifted column in `folder`; returns the report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    bins = "numeric columns binned on the training reference's deciles, categorical ones by category"
    lines = [f"# {heading}", "", f"PSI threshold {result.threshold}; {bins}.", ""]
    lines += ["| column | PSI | drifted |", "| --- | ---: | --- |"]
    for name, value in sorted(result.psi.items(), key=lambda item: -item[1]):
        lines.append(f"| {name} | {value:.4f} | {'yes' if name in result.drifted else ''} |")
    for name in result.drifted:
        image = chart(reference, current, name, result.psi[name], folder / f"{name}.png")
        lines += ["", f"## {name}", "", f"![{name}: reference against current]({image.name})"]
    target = folder / REPORT
    target.write_text("\n".join(lines) + "\n")
    return target
