"""The Lambda code asset, bundled locally: no Docker engine, no AWS credentials.

One asset serves the three functions (they differ by handler only), laid out as the repository is,
so the handler entries are `functions.<name>.handler.handler` and the core imports as `shared`:

    shared/                  the core package (no caches)
    functions/               the handlers (no tests, no caches)
    pydantic/, pydantic_core/, aws_lambda_powertools/, slack_sdk/, ...   runtime dependencies

Dependencies come from infra/lambda-requirements.txt, installed by pip for the Lambda platform
(manylinux aarch64 wheels, CPython 3.12): pydantic-core and ahocorasick-rs are compiled, so the build
machine's own wheels would not load on Lambda. boto3 is left to the runtime.

Bundling runs when CDK synthesizes a stack that needs it (`make synth`, `cdk deploy`); tests skip it
with the standard context `aws:cdk:bundling-stacks=[]`, and CDK then references the source tree
without running pip. The asset hash is computed from the files that go into the bundle plus the
requirements, so it changes exactly when the deployed code would.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
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


def pip_command(target: Path, requirements: Path = REQUIREMENTS) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile", "--no-warn-script-location",
        *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
        "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "--only-binary=:all:", "--target", str(target), "-r", str(requirements),
    ]


def asset_hash(root: Path = ROOT, requirements: Path = REQUIREMENTS) -> str:
    h = hashlib.sha256()
    h.update(f"{','.join(PLATFORMS)}|{PYTHON_VERSION}|".encode())
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


def install_dependencies(output: Path, requirements: Path = REQUIREMENTS) -> None:
    proc = subprocess.run(pip_command(output, requirements), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BundlingError(f"pip could not install the Lambda dependencies for {'/'.join(PLATFORMS)} "
                            f"py{PYTHON_VERSION} "
                            f"from {requirements.name}:\n{proc.stderr.strip() or proc.stdout.strip()}")
    # pydantic-core is the compiled one: make sure the Lambda platform's build is what landed.
    if not list(output.glob(f"pydantic_core/_pydantic_core.cpython-{PYTHON_VERSION.replace('.', '')}-aarch64-*.so")):
        raise BundlingError(f"pip did not install pydantic-core for CPython {PYTHON_VERSION} aarch64 into {output}")
    for junk in ("bin",):
        shutil.rmtree(output / junk, ignore_errors=True)
    for cache in output.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def build_bundle(output: Path, root: Path = ROOT, requirements: Path = REQUIREMENTS) -> None:
    missing = missing_handlers(root)
    if missing:
        raise BundlingError("cannot bundle the Lambda code, handler modules are missing: " + ", ".join(missing))
    output.mkdir(parents=True, exist_ok=True)
    install_dependencies(output, requirements)
    copy_code(output, root)


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
