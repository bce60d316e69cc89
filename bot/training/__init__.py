"""The trainers' loop (issue 26): what the assistant misunderstood, labelled by trainers, written
back into the NLU data (`apply`, `export`, `import`) and measured against the previous model
(`evaluate`). `python -m bot.training <command> --help`. Not part of any model (.ci/model-hash)."""
