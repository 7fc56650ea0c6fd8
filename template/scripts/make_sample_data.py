"""Write a synthetic credit-scoring data set: applicant features, a default label, a sensitive attribute.

Deterministic: the same arguments give the same bytes, so `data/sample.csv` is reproducible and the DVC
pointer of the full data set stays valid. `--shift` moves the population (lower incomes, more debt, more
late payments) to stand for a later quarter's applicants in the drift check. `--base` writes a labelled
snapshot (README "Labelled data"): complete, so the base data set's records first, then the new ones.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student")
HOME = ("own", "mortgage", "rent")
PURPOSE = ("car", "home_improvement", "debt_consolidation", "education", "business", "other")
TERMS = (12, 24, 36, 48, 60)


def generate(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 76, rows)
    employment = rng.choice(EMPLOYMENT, rows, p=(0.62, 0.14, 0.08, 0.1, 0.06))
    income_scale = np.select(
        [employment == "unemployed", employment == "student", employment == "retired"], [0.35, 0.3, 0.7], 1.0
    )
    annual_income = np.clip(rng.lognormal(10.75 - 0.3 * shift, 0.45, rows) * income_scale, 8_000, 400_000)
    loan_amount = np.clip(rng.lognormal(9.3 + 0.2 * shift, 0.7, rows), 500, 100_000)
    term = rng.choice(TERMS, rows)
    history = np.minimum(rng.gamma(2.0, 4.0, rows), age - 18)
    open_accounts = np.clip(rng.poisson(4 + 2 * shift, rows), 0, 30)
    late = np.clip(rng.poisson(0.6 + 0.8 * shift, rows), 0, 12)
    debt_to_income = np.clip(rng.beta(2, 5, rows) * 1.2 + 0.15 * shift, 0, 1.5)
    home = rng.choice(HOME, rows, p=(0.25, 0.4, 0.35))
    purpose = rng.choice(PURPOSE, rows)
    gender = rng.choice(("female", "male"), rows)

    monthly_burden = (loan_amount / term) / (annual_income / 12)
    logit = (
        -4.2
        + 7.0 * monthly_burden
        + 5.0 * debt_to_income
        + 1.1 * late
        - 0.12 * history
        - 0.02 * (age - 18)
        + 2.2 * (employment == "unemployed")
        + 0.8 * (employment == "student")
        - 0.5 * (home == "own")
        + 0.7 * (purpose == "business")
    )
    default = rng.random(rows) < 1 / (1 + np.exp(-logit))

    return pd.DataFrame(
        {
            "applicant_id": [f"A{seed:03d}{i:06d}" for i in range(rows)],
            "age": age,
            "annual_income": annual_income.round(2),
            "loan_amount": loan_amount.round(2),
            "loan_term_months": term,
            "credit_history_years": history.round(1),
            "open_accounts": open_accounts,
            "late_payments_12m": late,
            "debt_to_income": debt_to_income.round(3),
            "employment_status": employment,
            "home_ownership": home,
            "loan_purpose": purpose,
            "gender": gender,
            "default": default.astype(int),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shift", type=float, default=0.0, help="population shift, 0 for none")
    parser.add_argument("--out", type=Path, default=Path("data/sample.csv"))
    parser.add_argument("--base", type=Path, help="records to write first (a snapshot is complete)")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame = generate(args.rows, args.seed, args.shift)
    if args.base:
        frame = pd.concat([pd.read_csv(args.base), frame], ignore_index=True)
    frame.to_csv(args.out, index=False, lineterminator="\n")
    print(f"wrote {len(frame)} rows to {args.out}")


if __name__ == "__main__":
    main()
