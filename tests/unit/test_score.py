"""`ecs-autopsy score`: the repository's own scorer over labelled case files."""

from __future__ import annotations

import json
import shutil

from shared.cli import main
from shared.score import fact_found
from tests.conftest import CORPUS


def test_public_corpus_scores_every_case(capsys):
    assert main(["score", str(CORPUS), "--format", "json"]) == 0
    sm = json.loads(capsys.readouterr().out)
    assert sm["cases"] == 27
    assert sm["pattern_correct"] == 27
    assert sm["facts_found"] == sm["facts_expected"] > 0
    assert sm["cause_correct"] == sm["cause_cases"] > 0
    assert sum(row["cases"] for row in sm["per_pattern"].values()) == 27


def test_misses_are_counted_and_named(tmp_path, capsys):
    good = sorted(CORPUS.glob("*.json"))[:2]
    for p in good:
        shutil.copy(p, tmp_path / p.name)
    wrong = json.loads(good[0].read_text())
    wrong["expect"] = {"pattern": "port-in-use", "facts": {"port": "99999"}, "cause": "nonsense"}
    (tmp_path / "zz-wrong.json").write_text(json.dumps(wrong))
    assert main(["score", str(tmp_path), "--show-misses"]) == 0
    out = capsys.readouterr().out
    assert "pattern accuracy: 2/3 =" in out
    assert "misses: 1" in out
    assert "zz-wrong.json: expected port-in-use, got " in out
    assert "facts not found: port='99999'" in out
    assert "cause expected 'nonsense'" in out
    # the wrongly expected pattern shows in the per-pattern table with no correct case
    row = next(line for line in out.splitlines() if line.startswith("port-in-use"))
    assert row.split()[1:3] == ["1", "0"]


def test_a_file_that_is_not_a_case_is_named_and_the_rest_still_scored(tmp_path, capsys):
    shutil.copy(sorted(CORPUS.glob("*.json"))[0], tmp_path / "a.json")
    (tmp_path / "b.json").write_text(json.dumps({"event": {}, "logs": []}))
    (tmp_path / "README.md").write_text("not a case")
    assert main(["score", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "cases:            1" in out
    assert "b.json: no expected answer" in err


def test_an_empty_folder_is_bad_input(tmp_path, capsys):
    assert main(["score", str(tmp_path)]) == 2
    assert "no case files" in capsys.readouterr().err


def test_facts_match_by_containment_case_insensitively():
    assert fact_found("DATABASE_URL", {"variable": "database_url"})
    assert fact_found("orders-db", {"host": "orders-db.abc.eu-west-1.rds.amazonaws.com"})
    assert fact_found(5432, {"nested": [{"port": "5432"}]})
    assert not fact_found("redis", {"engine": "postgres"})
