"""tools/prereq.sh: the Makefile's prerequisite checks say what is wrong and what to do.

Only the paths that need no download are run here (a fake Python and Node on PATH); installing is
exercised by `make demo` / `make test` themselves.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "tools" / "prereq.sh"

# A Python that answers the version probes like an old one: the `< (3, 11)` check exits 1.
OLD_PYTHON = """#!/bin/sh
case "$2" in
  *"sys.exit"*) exit 1 ;;
  *print*) echo 3.10 ;;
  *) echo "Python 3.10.13" ;;
esac
"""
# A pyenv shim of a version that is not installed: fails whatever it is asked.
ABSENT = "#!/bin/sh\necho \"pyenv: $(basename \"$0\"): command not found\" >&2\nexit 127\n"


def _exe(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    for name in ("python3.13", "python3.12", "python3.11"):
        _exe(fake / name, ABSENT)
    _exe(fake / "python3", OLD_PYTHON)
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "VENV")}
    environ.update(PATH=f"{fake}:/usr/bin:/bin", **env)
    return subprocess.run(["sh", str(SCRIPT), *args], capture_output=True, text=True, env=environ, timeout=60)


def test_no_recent_python_is_named_with_what_to_do(tmp_path):
    r = _run(tmp_path, "venv", "demo", VENV=str(tmp_path / "venv"))
    assert r.returncode == 1
    assert "needs Python 3.11 or later" in r.stderr
    assert "python3: Python 3.10.13" in r.stderr
    assert "make PYTHON=" in r.stderr
    assert not (tmp_path / "venv").exists()


def test_an_explicit_python_that_is_too_old_is_refused(tmp_path):
    old = _exe(tmp_path / "python3.10", OLD_PYTHON)
    r = _run(tmp_path, "venv", "demo", VENV=str(tmp_path / "venv"), PYTHON=str(old))
    assert r.returncode == 1
    assert f"PYTHON={old} is not a working Python 3.11 or later" in r.stderr


def test_a_venv_made_by_an_old_python_is_called_stale(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _exe(venv / "bin" / "python", OLD_PYTHON)
    r = _run(tmp_path, "venv", "demo", VENV=str(venv))
    assert f"note: {venv} is stale, rebuilding it: it was made by Python 3.10" in r.stdout
    assert r.returncode == 1  # and no recent Python to rebuild it with: said so, the old venv left alone
    assert "needs Python 3.11 or later" in r.stderr


def test_a_venv_whose_python_does_not_run_is_called_stale(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _exe(venv / "bin" / "python", ABSENT)
    r = _run(tmp_path, "venv", "demo", VENV=str(venv))
    assert "its python does not run" in r.stdout


def test_a_healthy_venv_with_a_current_stamp_is_left_alone(tmp_path):
    """The fast path every later `make demo` takes: no install, no output."""
    import sys

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _exe(venv / "bin" / "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')  # this venv's python, with pip
    cksum = subprocess.run(["cksum"], stdin=(ROOT / "pyproject.toml").open("rb"), capture_output=True, text=True).stdout
    (venv / ".installed-demo").write_text(cksum)
    r = _run(tmp_path, "venv", "demo", VENV=str(venv))
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_node_is_only_required_recent(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    _exe(fake / "node", "#!/bin/sh\ncase \"$1\" in -p) echo 16 ;; *) echo v16.20.2 ;; esac\n")
    r = _run(tmp_path, "node")
    assert r.returncode == 1
    assert "needs Node.js 18 or later; found v16.20.2" in r.stderr
