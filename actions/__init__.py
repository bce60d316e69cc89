"""rasa-sdk actions, one module per feature. Wording lives in domain.yml responses."""
