"""Rasa-side package: custom NLU components, the localized NLG and the phrasing style guide."""
