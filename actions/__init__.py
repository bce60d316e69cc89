"""rasa-sdk actions, one module per feature. Wording lives in domain.yml responses.

Feature modules (aftersales, complaints, fallback, handoff, orders, outages, products, survey) never import each
other; what two of them need lives in a shared module (cases, common, complaint_policy, complaint_steps,
order_lookup, outage_notices, clients/), and shared modules never import a feature. pyproject.toml's import-linter
contracts keep it so (`lint-imports`).
"""
