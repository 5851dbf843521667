"""fix30: near misses for the review21 probes (tests/unit/test_review21_probes.py). Each block keeps today's answer
for the case next to the one the fix changed."""

from __future__ import annotations

from tests.unit.helpers import run

# -- the refusal rule: "with" and a dash lead in only a qualified name ------------------------------------------


def test_a_refusal_with_a_dash_that_says_the_variable_is_not_set_is_a_plain_missing_variable():
    got = run(["refusing to start - ADMIN_API_TOKEN is not set"])
    assert got.pattern == "missing-env-var" and got.facts["variable"] == "ADMIN_API_TOKEN"
    assert "insecure_default" not in got.facts


def test_a_refusal_with_an_unqualified_setting_or_no_setting_names_no_variable():
    for line in ("Refusing to start with MAX_WORKERS=0", "Refusing to start with the default workers",
                 "refusing to start - port 8080 already in use", "Starting with the default SECRET_KEY"):
        assert run([line]).pattern != "missing-env-var", line
