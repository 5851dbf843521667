"""app.py / infra.app: context in, stacks out; a bad key stops synth with a one-screen message."""

from __future__ import annotations

import json

import pytest

from infra import app as infra_app
from infra.config import ConfigError


def test_build_raises_config_error_naming_the_key(tmp_path):
    from aws_cdk import App

    app = App(context={"autopsy:clusterz": ["prod"]}, outdir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"autopsy:clusterz: unknown setting \(did you mean 'autopsy:clusters'\?\)"):
        infra_app.build(app)


def test_main_prints_the_error_without_traceback_and_exits_2(tmp_path, capsys):
    from aws_cdk import App

    app = App(context={"autopsy:logLines": 0, "autopsy:postExpectedStop": True}, outdir=str(tmp_path))
    assert infra_app.main(app) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecs-autopsy: invalid ecs-autopsy configuration:")
    assert "autopsy:postExpectedStop: unknown setting (did you mean 'autopsy:postExpectedStops'?)" in err


def test_standalone_app_reads_cdk_json(monkeypatch):
    monkeypatch.delenv("CDK_OUTDIR", raising=False)
    app = infra_app._standalone_app()
    assert app.node.try_get_context("autopsy:logGroupPrefixes") == ["/ecs/", "/aws/ecs/", "/copilot/", "*LogGroup"]
    assert app.outdir.endswith("cdk.out")


def test_cdk_json_runs_app_py_with_the_project_venv():
    cdk = json.loads((infra_app.ROOT / "cdk.json").read_text())
    assert cdk["app"] == ".venv/bin/python app.py"
    assert (infra_app.ROOT / "app.py").is_file()
