#!/usr/bin/env bash
# The oldest versions pyproject.toml allows: a second venv (.venv-min) with every runtime
# dependency pinned to its lower bound (scripts/min_versions.py) and the newest of the rest
# (numpy 2), set up once and again when pyproject.toml changes; then a fast but real subset
# of the Python tests there: the store (DuckDB and PostgreSQL) and to_pandas, the sources, teach, manual and correct
# sessions, the widget's kernel side, silver and train, progress bars, help texts.
# scripts/test.sh runs it; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
stamp=.venv-min/.nbannotate-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  rm -rf .venv-min
  "$PY" -m venv .venv-min
  .venv-min/bin/python scripts/min_versions.py > .venv-min/constraints.txt
  .venv-min/bin/python -m pip install -q -c .venv-min/constraints.txt -e ".[postgres]" "pytest>=8"
  touch "$stamp"
fi
.venv-min/bin/python scripts/min_versions.py --check
# Whole files where they are quick, chosen tests where the file has long learning runs. A test
# renamed here fails the run ("not found") rather than silently dropping out.
exec .venv-min/bin/python -m pytest "$@" tests/test_store.py tests/test_sources.py \
  tests/test_progress.py tests/test_packaging.py \
  tests/test_session.py::test_task_json_is_prodigy_compatible \
  tests/test_session.py::test_answers_are_durable_and_undo_removes_the_last \
  tests/test_session.py::test_resume_never_offers_an_answered_task \
  tests/test_session.py::test_the_stream_ends_and_progress_says_so \
  tests/test_session.py::test_a_database_locked_by_another_process_fails_at_teach \
  tests/test_widget.py::test_answer_is_stored_acknowledged_and_the_queue_topped_up \
  tests/test_widget.py::test_accept_reject_ignore_undo_store_exactly_the_right_answers \
  tests/test_widget.py::test_displaying_a_session_shows_the_widget \
  tests/test_widget.py::test_esm_and_css_are_the_bundled_files_in_the_package \
  tests/test_manual.py::test_manual_prehighlights_patterns_and_stores_gold \
  tests/test_manual.py::test_correct_prehighlights_the_model_and_can_update_it \
  tests/test_silver.py::test_silver_stores_confident_analyses_once \
  tests/test_silver.py::test_train_uses_silver_beside_answers_and_answers_win
