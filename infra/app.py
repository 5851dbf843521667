"""Builds the CDK app from context: `app.py` calls main(); tests call build() on their own App.

main() also writes the member template for service-managed CloudFormation StackSets next to the
other templates (MEMBER_STACKSET_FILE in the output directory): a plain template, no assets, no
bootstrap version rule, so it deploys to every account of an OU with auto-deployment and no
`cdk bootstrap` (docs/deploy.md, "Organization").
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from aws_cdk import App, BootstraplessSynthesizer, CfnCondition, CfnParameter, Fn, Stack, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import AutopsyConfig, ConfigError
from infra.stack import EcsAutopsyMemberStack, EcsAutopsyStack

ROOT = Path(__file__).resolve().parents[1]
STACK_NAME = "EcsAutopsy"
MEMBER_STACK_NAME = "EcsAutopsyMember"
MEMBER_STACKSET_NAME = "EcsAutopsyMemberStackSet"
MEMBER_STACKSET_FILE = f"{MEMBER_STACKSET_NAME}.template.json"


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


def member_stackset_template(config: AutopsyConfig, *, nag: bool = True) -> dict:
    """The member stack as a plain CloudFormation template for service-managed StackSets.

    Parameters: HubAccountId, HubRegion (defaults from autopsy:hubAccount / autopsy:hubRegion when
    set) and CreateReaderRole (true in one Region per account: the IAM role is global). The
    BootstraplessSynthesizer refuses any asset, so the template can never need `cdk bootstrap`.
    """
    from infra.hub import EcsAutopsyMember

    with tempfile.TemporaryDirectory(prefix="ecs-autopsy-stackset-") as tmp:
        app = App(outdir=tmp)
        # No AWS::CDK::Metadata resource either: the template is CloudFormation only.
        stack = Stack(app, MEMBER_STACKSET_NAME, synthesizer=BootstraplessSynthesizer(), analytics_reporting=False,
                      description="ecs-autopsy member (StackSet): forwards ECS events to the hub, read-only role")
        hub_account = CfnParameter(
            stack, "HubAccountId", type="String", allowed_pattern=r"^\d{12}$",
            description="Account id of the ecs-autopsy hub (where EcsAutopsy is deployed)",
            constraint_description="a 12-digit AWS account id",
            **({"default": config.hub_account} if config.hub_account else {}))
        hub_region = CfnParameter(
            stack, "HubRegion", type="String", allowed_pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$",
            description="Region of the ecs-autopsy hub", constraint_description="a Region name like eu-west-1",
            **({"default": config.hub_region} if config.hub_region else {}))
        create_role = CfnParameter(
            stack, "CreateReaderRole", type="String", allowed_values=["true", "false"], default="true",
            description="Create the read-only role the hub assumes (true in exactly one Region per account)")
        condition = CfnCondition(stack, "ReaderRoleWanted", expression=Fn.condition_equals(create_role.value_as_string,
                                                                                             "true"))
        EcsAutopsyMember(stack, "Member", config=config, hub_account=hub_account.value_as_string,
                         hub_region=hub_region.value_as_string, reader_role=condition)
        if nag:
            Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        assembly = app.synth()
        return dict(assembly.get_stack_by_name(MEMBER_STACKSET_NAME).template)


def write_member_stackset(config: AutopsyConfig, outdir: str | Path) -> Path:
    path = Path(outdir) / MEMBER_STACKSET_FILE
    path.write_text(json.dumps(member_stackset_template(config), indent=1) + "\n")
    return path


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
        config = AutopsyConfig.from_context(app.node.get_all_context())
    except ConfigError as exc:
        print(f"ecs-autopsy: {exc}", file=sys.stderr)
        return 2
    app.synth()
    write_member_stackset(config, app.outdir)
    return 0
