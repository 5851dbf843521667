"""The Lambda code asset, bundled locally: no Docker engine, no AWS credentials.

One asset serves the three functions (they differ by handler only), laid out as the repository is,
so the handler entries are `functions.<name>.handler.handler` and the core imports as `shared`:

    shared/                  the core package (no caches)
    functions/               the handlers (no tests, no caches)
    pydantic/, pydantic_core/, aws_lambda_powertools/, slack_sdk/, ...   runtime dependencies

Dependencies come from infra/lambda-requirements.txt, installed by pip for the Lambda platform
(manylinux aarch64 wheels, CPython 3.12): pydantic-core and ahocorasick-rs are compiled, so the build
machine's own wheels would not load on Lambda. boto3 is left to the runtime.

The bundle ships `.pyc` files compiled by CPython 3.12, the runtime's own version: Lambda's
`/var/task` is read-only, so without them every cold start compiles pydantic, powertools, slack_sdk
and our code again, in memory. They are compiled with `--invalidation-mode unchecked-hash` (the
bundle never changes once built, and zip timestamps would not match the sources). The 3.12
interpreter is found at synth (ECS_AUTOPSY_PYTHON312, `python3.12` on PATH, pyenv, uv); without one
the bundle ships sources only and synth says so plainly.

Bundling runs when CDK synthesizes a stack that needs it (`make synth`, `cdk deploy`); tests skip it
with the standard context `aws:cdk:bundling-stacks=[]`, and CDK then references the source tree
without running pip. The asset hash is computed from the files that go into the bundle plus the
requirements, so it changes exactly when the deployed code would.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = Path(__file__).with_name("lambda-requirements.txt")
CODE_PACKAGES = ("shared", "functions")
FUNCTIONS = ("task_stopped", "deploy_failed", "manual")
# The python3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux2014 and manylinux_2_28 wheels
# both load there (some packages publish aarch64 wheels only as manylinux_2_28).
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
PYTHON_VERSION = "3.12"
_SKIP_DIRS = {"__pycache__", "tests", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


class BundlingError(RuntimeError):
    pass


NO_PYC_WARNING = (f"ecs-autopsy: no Python {PYTHON_VERSION} found (ECS_AUTOPSY_PYTHON312, python{PYTHON_VERSION} on PATH, "
                  f"pyenv, uv): the Lambda bundle ships without .pyc files, so every cold start compiles the code "
                  f"and its dependencies again (about 0.5 s more). Install Python {PYTHON_VERSION} (e.g. "
                  f"`uv python install {PYTHON_VERSION}` or `pyenv install {PYTHON_VERSION}`) and synth again.")


def _version_of(python: str) -> str | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.cache
def find_runtime_python(version: str = PYTHON_VERSION) -> str | None:
    """An interpreter of the Lambda runtime's Python version on the synth machine, or None."""
    candidates: list[str] = []
    if os.environ.get("ECS_AUTOPSY_PYTHON312"):
        candidates.append(os.environ["ECS_AUTOPSY_PYTHON312"])
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        candidates.append(sys.executable)
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    uv = shutil.which("uv")
    if uv:
        try:
            found = subprocess.run([uv, "python", "find", version], capture_output=True, text=True, timeout=60,
                                   check=False)
            if found.returncode == 0 and found.stdout.strip():
                candidates.append(found.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    for python in candidates:
        if _version_of(python) == version:
            return python
    return None


def compile_bundle(output: Path, python: str | None) -> int:
    """Compile every .py of the bundle with `python` (the runtime's version); returns how many
    .pyc files were written. Without an interpreter, warns and compiles nothing."""
    if python is None:
        warnings.warn(NO_PYC_WARNING, stacklevel=2)
        print(NO_PYC_WARNING, file=sys.stderr)
        return 0
    proc = subprocess.run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                           "-d", "/var/task", str(output)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BundlingError(f"{python} -m compileall failed on the bundle:\n{(proc.stderr or proc.stdout)[-2000:]}")
    tag = f"cpython-{PYTHON_VERSION.replace('.', '')}"
    return sum(1 for _ in output.rglob(f"*.{tag}.pyc"))


def handler_entry(function: str) -> str:
    return f"functions.{function}.handler.handler"


def code_files(root: Path = ROOT) -> Iterator[tuple[Path, Path]]:
    """(source, path inside the asset) of every code file that goes into the bundle, sorted."""
    for package in CODE_PACKAGES:
        base = root / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root)
            if path.is_dir() or any(part in _SKIP_DIRS for part in rel.parts) or path.suffix in _SKIP_SUFFIXES:
                continue
            yield path, rel


def missing_handlers(root: Path = ROOT) -> list[str]:
    return [f"functions/{f}/handler.py" for f in FUNCTIONS if not (root / "functions" / f / "handler.py").is_file()]


def pip_command(target: Path, requirements: Path = REQUIREMENTS, platforms: tuple[str, ...] = PLATFORMS) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile", "--no-warn-script-location",
        *(arg for platform in platforms for arg in ("--platform", platform)),
        "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "--only-binary=:all:", "--target", str(target), "-r", str(requirements),
    ]


def asset_hash(root: Path = ROOT, requirements: Path = REQUIREMENTS, compiled: bool | None = None) -> str:
    """Changes exactly when the deployed code would: the code, the requirements, and whether the
    bundle carries .pyc files (`compiled`; by default, whether a runtime interpreter is found)."""
    if compiled is None:
        compiled = find_runtime_python() is not None
    h = hashlib.sha256()
    h.update(f"{','.join(PLATFORMS)}|{PYTHON_VERSION}|pyc={compiled}|".encode())
    h.update(requirements.read_bytes())
    for src, rel in code_files(root):
        h.update(rel.as_posix().encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()


def copy_code(output: Path, root: Path = ROOT) -> int:
    """Copy shared/ and functions/ into the bundle; returns the number of files."""
    n = 0
    for src, rel in code_files(root):
        dest = output / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        n += 1
    return n


def install_dependencies(output: Path, requirements: Path = REQUIREMENTS, platforms: tuple[str, ...] = PLATFORMS) -> None:
    """`platforms`: the Lambda's (aarch64) unless a benchmark builds the same bundle for this machine."""
    proc = subprocess.run(pip_command(output, requirements, platforms), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BundlingError(f"pip could not install the Lambda dependencies for {'/'.join(platforms)} "
                            f"py{PYTHON_VERSION} "
                            f"from {requirements.name}:\n{proc.stderr.strip() or proc.stdout.strip()}")
    # pydantic-core is the compiled one: make sure the Lambda platform's build is what landed.
    arch = "aarch64" if platforms[0].endswith("aarch64") else "x86_64"
    if not list(output.glob(f"pydantic_core/_pydantic_core.cpython-{PYTHON_VERSION.replace('.', '')}-{arch}-*.so")):
        raise BundlingError(f"pip did not install pydantic-core for CPython {PYTHON_VERSION} {arch} into {output}")
    for junk in ("bin",):
        shutil.rmtree(output / junk, ignore_errors=True)
    for cache in output.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def build_bundle(output: Path, root: Path = ROOT, requirements: Path = REQUIREMENTS, *,
                 python: str | bool | None = True, platforms: tuple[str, ...] = PLATFORMS) -> None:
    """`python`: the interpreter compiling the .pyc files (True: found by `find_runtime_python`;
    None or False: none, with the warning). `platforms`: the wheels' (a benchmark builds for this
    machine)."""
    missing = missing_handlers(root)
    if missing:
        raise BundlingError("cannot bundle the Lambda code, handler modules are missing: " + ", ".join(missing))
    output.mkdir(parents=True, exist_ok=True)
    if platforms == PLATFORMS:
        install_dependencies(output, requirements)
    else:
        install_dependencies(output, requirements, platforms)
    copy_code(output, root)
    compile_bundle(output, find_runtime_python() if python is True else (python or None))


@jsii.implements(ILocalBundling)
class LocalBundler:
    """Bundles on the synth machine with pip; CDK never falls back to Docker (errors are raised)."""

    def __init__(self, root: Path = ROOT, requirements: Path = REQUIREMENTS) -> None:
        self.root = root
        self.requirements = requirements

    def try_bundle(self, output_dir: str, options: object = None) -> bool:  # jsii passes BundlingOptions
        build_bundle(Path(output_dir), self.root, self.requirements)
        return True


def lambda_code(root: Path = ROOT) -> lambda_.Code:
    """The shared asset of the three functions."""
    return lambda_.Code.from_asset(
        str(root),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(root),
        bundling=BundlingOptions(
            # Never pulled: LocalBundler always bundles or raises. CDK requires an image to be named.
            image=DockerImage.from_registry("local-bundling-only"),
            local=LocalBundler(root),
        ),
    )
