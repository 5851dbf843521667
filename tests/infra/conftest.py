"""Synthesized apps for the infra tests: each configuration is synthesized once per session.

Bundling is skipped (`aws:cdk:bundling-stacks=[]`, CDK's own switch): the tests need no network
and no handlers; `make synth` does the real bundling. cdk-nag runs in every synth and makes it
raise on any unacknowledged finding.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# Environment-agnostic synth, as `make synth` without an AWS profile (tests that need a Region set it).
os.environ.pop("CDK_DEFAULT_REGION", None)

ROOT = Path(__file__).resolve().parents[2]

HUB_CONTEXT = {
    "autopsy:clusters": ["prod", "arn:aws:ecs:eu-west-1:123456789012:cluster/staging"],
    "autopsy:slackWebhookSecret": "ecs-autopsy/slack",
    "autopsy:sourceAccounts": ["111111111111", "222222222222"],
    "autopsy:hubAccount": "333333333333",
    "autopsy:logGroupPrefixes": "/ecs/,/custom/",
    "autopsy:postExpectedStops": "true",
    "autopsy:chatbotFormat": True,
    "autopsy:logLines": "250",
    "autopsy:reservedConcurrency": 10,
    "autopsy:logRetentionDays": 90,
}

EXISTING_TOPIC_CONTEXT = {
    "autopsy:topicArn": "arn:aws:sns:eu-west-1:123456789012:ops-alerts",
    "autopsy:topicKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "autopsy:slackWebhookSecret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-webhook-AbCdEf",
    "autopsy:slackSecretKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab",
    "autopsy:reservedConcurrency": "off",
    "autopsy:alarmEmails": "ops@example.com",
    "autopsy:alarmSlackWorkspaceId": "T0123ABCD",
    "autopsy:alarmSlackChannelId": "C0123ABCDEF",
}


def cdk_json_context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass
class Synth:
    app: object
    stacks: dict  # name -> Stack
    templates: dict  # name -> template dict
    outdir: Path
    report: dict


def synth(tmp: Path, extra: dict | None = None) -> Synth:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.app import build

    context = cdk_json_context() | (extra or {}) | {"aws:cdk:bundling-stacks": []}
    app = App(context=context, outdir=str(tmp))
    stacks = {s.stack_name: s for s in build(app)}
    app.synth()
    templates = {name: Template.from_stack(s).to_json() for name, s in stacks.items()}
    report = json.loads((tmp / "validation-report.json").read_text())
    return Synth(app, stacks, templates, tmp, report)


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory) -> Synth:
    return synth(tmp_path_factory.mktemp("cdk-default"))


@pytest.fixture(scope="session")
def hub_synth(tmp_path_factory) -> Synth:
    return synth(tmp_path_factory.mktemp("cdk-hub"), HUB_CONTEXT)


@pytest.fixture(scope="session")
def topic_synth(tmp_path_factory) -> Synth:
    return synth(tmp_path_factory.mktemp("cdk-topic"), EXISTING_TOPIC_CONTEXT)
