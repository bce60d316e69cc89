"""Custom NLU components, in pipeline order: input guard, language, script, tokenizer, entities."""
