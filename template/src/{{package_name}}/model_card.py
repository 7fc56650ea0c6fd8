"""A Markdown model card: what the model is for, the data it saw, how it scored, the gates, its lineage."""

from datetime import UTC, datetime

from .schema import FEATURES, LABEL, SENSITIVE
from .settings import CONTACT, DESCRIPTION, MODEL_NAME, TEAM


def table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
    ]


def render(data: dict, training: dict, evaluation: dict, registration: dict | None) -> str:
    lines = [
        f"# Model card: {MODEL_NAME}",
        "",
        f"{DESCRIPTION}. Owner: {TEAM} ({CONTACT}). Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "## Intended use",
        "",
        f"Scores loan applications with the probability of `{LABEL.name}`; a person reviews every decline.",
        f"`{SENSITIVE.name}` is not an input; it is kept only to check decisions across its groups.",
        "",
        "## Data",
        "",
        *table(("property", "value"), [(key, value) for key, value in data.items()]),
        "",
        "Features: " + ", ".join(f"`{column.name}`" for column in FEATURES) + ".",
        "",
        "## Metrics (held-out split)",
        "",
        *table(
            ("metric", "value"), [(name, f"{value:.4f}") for name, value in evaluation["metrics"].items()]
        ),
        "",
        "## Gates",
        "",
        *table(
            ("gate", "value", "rule", "passed"),
            [
                (gate["name"], f"{gate['value']:.4f}", f"{gate['rule']} {gate['threshold']}", gate["passed"])
                for gate in evaluation["gates"]
            ],
        ),
        "",
        f"## Bias check across `{SENSITIVE.name}`",
        "",
        *table(
            ("group", "approval rate"), [(g, f"{r:.3f}") for g, r in evaluation["approval_rates"].items()]
        ),
        "",
        "## Lineage",
        "",
        *table(
            ("item", "value"),
            [
                ("MLflow run", training["run_id"]),
                ("logged model", training["model_uri"]),
                ("data snapshot", training["data_snapshot"]),
                ("data version (md5)", training["data_version"]),
                ("training device", training["device"]),
                ("registered version", (registration or {}).get("version") or "not registered"),
                ("registry decision", (registration or {}).get("reason") or "not run"),
            ],
        ),
        "",
    ]
    return "\n".join(lines)
