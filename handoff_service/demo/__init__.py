"""Demo history: a seeded, realistic few weeks of cases written through the real vocabularies
(`python -m handoff_service demo-data`), and its removal."""
