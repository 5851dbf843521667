"""Lambda code packaging without Docker: what goes in, for which platform, and clear failures.

The pip download itself runs in `make synth` (it needs PyPI); here the parts around it are checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import packaging as pk


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


@pytest.fixture
def repo(tmp_path) -> Path:
    return _tree(tmp_path / "repo", {
        "shared/__init__.py": "", "shared/engine.py": "X = 1\n", "shared/__pycache__/engine.cpython-312.pyc": "b",
        "shared/schemas/finding.json": "{}",
        "functions/task_stopped/handler.py": "def handler(e, c): ...\n",
        "functions/deploy_failed/handler.py": "def handler(e, c): ...\n",
        "functions/manual/handler.py": "def handler(e, c): ...\n",
        "functions/manual/tests/test_x.py": "", "functions/manual/old.pyc": "b",
        "infra/app.py": "", "tests/unit/test_a.py": "", ".venv/lib/x.py": "", "README.md": "",
    })


def test_bundle_holds_shared_and_functions_only(repo):
    rels = sorted(rel.as_posix() for _, rel in pk.code_files(repo))
    assert rels == ["functions/deploy_failed/handler.py", "functions/manual/handler.py",
                    "functions/task_stopped/handler.py", "shared/__init__.py", "shared/engine.py",
                    "shared/schemas/finding.json"]


def test_copy_code_lays_out_the_handler_entries(repo, tmp_path):
    out = tmp_path / "out"
    assert pk.copy_code(out, repo) == 6
    for fn in pk.FUNCTIONS:
        module = pk.handler_entry(fn).rsplit(".", 1)[0]
        assert (out / (module.replace(".", "/") + ".py")).is_file()
    assert (out / "shared" / "engine.py").read_text() == "X = 1\n"


def test_asset_hash_follows_code_and_requirements(repo, tmp_path):
    req = tmp_path / "req.txt"
    req.write_text("pydantic==2.0\n")
    h0 = pk.asset_hash(repo, req)
    assert pk.asset_hash(repo, req) == h0
    (repo / "README.md").write_text("changed")  # not in the bundle
    (repo / "shared/__pycache__/engine.cpython-312.pyc").write_text("other")
    assert pk.asset_hash(repo, req) == h0
    (repo / "shared/engine.py").write_text("X = 2\n")
    h1 = pk.asset_hash(repo, req)
    assert h1 != h0
    req.write_text("pydantic==2.1\n")
    assert pk.asset_hash(repo, req) != h1


def test_pip_installs_wheels_for_the_lambda_platform(tmp_path):
    cmd = pk.pip_command(tmp_path / "t")
    joined = " ".join(cmd)
    assert "--platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64" in joined
    assert "--python-version 3.12" in joined and "--implementation cp" in joined
    assert "--only-binary=:all:" in cmd and "--no-compile" in cmd
    assert cmd[cmd.index("--target") + 1] == str(tmp_path / "t")
    assert cmd[cmd.index("-r") + 1] == str(pk.REQUIREMENTS)


def test_requirements_are_pinned_and_leave_boto3_to_the_runtime():
    lines = [ln.strip() for ln in pk.REQUIREMENTS.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    names = {ln.split("==")[0].lower() for ln in lines}
    assert all("==" in ln for ln in lines)
    assert {"pydantic", "pydantic-core", "aws-lambda-powertools", "slack-sdk"} <= names
    assert not names & {"boto3", "botocore"}


def test_missing_handlers_fail_bundling_with_their_paths(repo, tmp_path):
    (repo / "functions/manual/handler.py").unlink()
    with pytest.raises(pk.BundlingError, match=r"handler modules are missing: functions/manual/handler.py"):
        pk.build_bundle(tmp_path / "out", repo)


def test_a_pip_failure_is_a_bundling_error(repo, tmp_path):
    bad = tmp_path / "bad-requirements.txt"
    bad.write_text("--this-option-does-not-exist\n")
    with pytest.raises(pk.BundlingError, match="pip could not install"):
        pk.install_dependencies(tmp_path / "out", bad)


def test_local_bundler_is_what_cdk_calls(repo, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pk, "install_dependencies", lambda out, req: calls.append((out, req)))
    bundler = pk.LocalBundler(repo)
    assert bundler.try_bundle(str(tmp_path / "out"), None) is True
    assert calls == [(tmp_path / "out", pk.REQUIREMENTS)]
    assert (tmp_path / "out/functions/task_stopped/handler.py").is_file()


def test_asset_hash_says_whether_the_bundle_is_compiled(repo, tmp_path):
    req = tmp_path / "req.txt"
    req.write_text("pydantic==2.0\n")
    assert pk.asset_hash(repo, req, compiled=True) != pk.asset_hash(repo, req, compiled=False)


@pytest.mark.skipif(pk.find_runtime_python() is None, reason="no Python 3.12 on this machine")
def test_the_bundle_ships_pyc_of_the_runtime_version_that_need_no_source_check(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(pk, "install_dependencies", lambda out, req: None)
    out = tmp_path / "out"
    pk.build_bundle(out, repo)
    pyc = out / "shared/__pycache__/engine.cpython-312.pyc"
    assert pyc.is_file()
    assert sorted(p.name for p in out.rglob("*.pyc")) == sorted(
        f"{p.stem}.cpython-312.pyc" for p in out.rglob("*.py"))
    # PEP 552 flags: hash-based (bit 0), source not checked (bit 1 clear): read-only /var/task never recompiles.
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01


def test_without_a_runtime_python_synth_warns_plainly(repo, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pk, "install_dependencies", lambda out, req: None)
    with pytest.warns(UserWarning, match=r"no Python 3\.12 found .* ships without \.pyc"):
        pk.build_bundle(tmp_path / "out", repo, python=None)
    assert "no Python 3.12 found" in capsys.readouterr().err
    assert not list((tmp_path / "out").rglob("*.pyc"))


def test_an_interpreter_of_another_version_is_not_taken(monkeypatch):
    import sys

    assert pk._version_of(sys.executable) == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert pk._version_of("/nonexistent/python") is None
