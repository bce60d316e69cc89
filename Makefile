# The project's commands. `make run` and `make test` are the two that matter.
SHELL := /bin/bash
.DEFAULT_GOAL := help
RASA := .venv/bin/rasa
PY := .venv/bin/python
# Rasa's usage telemetry and crash reports (sentry.io) stay off unless the environment turns them on
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: help setup system-deps train evaluate run test lint audit validate review-apply test-bot test-stories test-handoff test-browser test-security bench demo-data clean

help:
	@echo "make run    - set up what is missing, train if needed, start everything on localhost"
	@echo "make test   - set up what is missing and run every test"
	@echo "make setup | train | evaluate | bench | lint | audit | demo-data | clean"

setup:
	@.ci/setup.sh

system-deps:
	@.ci/system-deps.sh

train: setup
	@.ci/train.sh >/dev/null

# the current model against the previous one: report in var/reports/latest/, non-zero exit when it got worse;
# with a trainer's token, also shown on the console's review page (REVIEW_URL)
# (options: make evaluate EVALUATE_ARGS="--old models/<hash>.tar.gz --sets heldout,bitext")
evaluate: setup
	@if $(HAS_TRAINER_TOKEN); then publish="--publish $(REVIEW_URL)"; fi; \
	PYTHONWARNINGS=ignore $(PY) -m bot.training evaluate $$publish $(EVALUATE_ARGS)

run: setup train
	@.ci/serve.sh

lint: setup
	@.ci/lint.sh

# known vulnerabilities in the pinned packages of both environments (.ci/audit-ignore.txt: Rasa's allowed ones)
audit:
	@SETUP_AUDIT=1 .ci/setup.sh && .ci/audit.sh

validate: setup
	$(RASA) data validate --fail-on-warnings --quiet

# the trainers' labelled items (JSONL, bot/training/items.py) into data/nlu, one text in five into
# the held-back test set bench/data/real_traffic/ (README, For trainers); then `make validate` and `make train`
# With a trainer's token (HANDOFF_TRAINER_TOKEN, or var/trainer.token that `make run` keeps), the items
# come from handoff_service's review list first (REVIEW_URL) and the ones written are marked applied there.
ITEMS ?= var/review/items.jsonl
REVIEW_URL ?= http://127.0.0.1:8080
HAS_TRAINER_TOKEN = [ -n "$$HANDOFF_TRAINER_TOKEN" ] || [ -s var/trainer.token ]
review-apply: setup
	@if $(HAS_TRAINER_TOKEN); then \
	  $(PY) -m bot.training export --from $(REVIEW_URL) --out $(ITEMS) --status labelled,applied && \
	  $(PY) -m bot.training apply --items $(ITEMS) --mark-applied $(REVIEW_URL); \
	else $(PY) -m bot.training apply --items $(ITEMS); fi

test-bot: setup train
	RASA_MODEL=$$(.ci/train.sh) $(PY) -m pytest -c tests/pytest.ini tests/bot tests/actions tests/e2e tests/test_training_data.py

test-stories: setup
	@model=$$(.ci/train.sh) && $(RASA) test core --e2e --model "$$model" --stories tests/stories \
	  --fail-on-prediction-errors --out var/results/stories --quiet

test-handoff: setup system-deps
	@if [ -x .ci/test-handoff.sh ]; then .ci/test-handoff.sh; else echo "test-handoff: nothing to run yet"; fi

test-browser: setup system-deps train
	@.ci/test-browser.sh

# the attack suite (issue 25) against the stack `make run` starts
test-security: setup system-deps train
	@.ci/test-security.sh

test: setup system-deps validate lint train test-bot test-stories test-handoff test-browser test-security
	@echo "make test: all passed"

# a seeded few weeks of demo history (cases, timelines, messages, CSAT, follow-up visits) in the database
# HANDOFF_DATABASE_URL points at (default var/handoff.db), for the supervisors' views and the staffing forecast;
# refuses a database with real cases (DEMO_ARGS="--force"); DEMO_ARGS="--remove" takes it out again
DEMO_ARGS ?= --weeks 4 --seed 42
demo-data: setup
	@.venv-handoff/bin/python -m handoff_service demo-data $(DEMO_ARGS)

bench: setup train
	$(PY) bench/nlu_eval.py --seeds 42,7,1234
	$(PY) bench/emotion_eval.py
	$(PY) bench/train_time.py
	$(PY) bench/trainer_loop.py
	$(PY) bench/latency.py
	$(PY) bench/review_feed_cost.py
	.venv-handoff/bin/python bench/handoff_load.py
	.venv-handoff/bin/python bench/review_list.py
	.venv-handoff/bin/python bench/follow_up_visits.py
	.venv-handoff/bin/python bench/outage_fanout.py
	.venv-handoff/bin/python bench/handoff_e2e.py
	.venv-handoff/bin/python bench/pii_eval.py
	.venv-handoff/bin/python bench/dashboard_scale.py

clean:
	rm -rf models var/results .pytest_cache
