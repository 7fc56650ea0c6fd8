"""The platform's Pulumi policy pack: the rules every stack must pass before it reaches Azure.

`policies.POLICIES` is importable without the policy server, so tests and the offline check use the
very objects that `pulumi preview --policy-pack infra/policies` runs.
"""
