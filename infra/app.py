"""Builds the CDK app from context: `app.py` calls main(); tests call build() on their own App."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from aws_cdk import App, Stack, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import AutopsyConfig, ConfigError
from infra.stack import EcsAutopsyMemberStack, EcsAutopsyStack

ROOT = Path(__file__).resolve().parents[1]
STACK_NAME = "EcsAutopsy"
MEMBER_STACK_NAME = "EcsAutopsyMember"


def build(app: App, *, nag: bool = True) -> list[Stack]:
    """The hub/single-account stack, plus the member stack when `autopsy:hubAccount` is set.

    Raises ConfigError (a readable message naming each bad key) on invalid context.
    """
    config = AutopsyConfig.from_context(app.node.get_all_context())
    stacks: list[Stack] = [EcsAutopsyStack(app, STACK_NAME, config=config)]
    if config.hub_account:
        stacks.append(EcsAutopsyMemberStack(app, MEMBER_STACK_NAME, config=config))
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stacks


def _standalone_app() -> App:
    """`python app.py` outside the CDK CLI: read cdk.json's context ourselves and write cdk.out/."""
    cdk_json = ROOT / "cdk.json"
    context = json.loads(cdk_json.read_text()).get("context", {}) if cdk_json.is_file() else {}
    return App(context=context, outdir=str(ROOT / "cdk.out"))


def main(app: App | None = None) -> int:
    """Synthesize; on invalid configuration print the message (no traceback) and return 2."""
    if app is None:
        # Under the CDK CLI, App() reads the context and output directory the CLI passes.
        app = App() if os.environ.get("CDK_OUTDIR") else _standalone_app()
    try:
        build(app)
    except ConfigError as exc:
        print(f"ecs-autopsy: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0
