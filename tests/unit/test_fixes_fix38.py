"""fix38: review25's four defects as general rules, each with near misses that must stay as they are.

(1) A known sidecar's own wording is handed to that sidecar only when no container's own stream carries the line (an
unlabelled paste, a label naming no container of the task): a line in a container's own labelled stream is that
container's, since an application may print the same wording (Telegraf prints the CloudWatch agent's form)."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run

_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/"


def _c(name: str, image: str, code: int) -> dict[str, Any]:
    return {"name": name, "exitCode": code, "lastStatus": "STOPPED", "image": image}


# (1) sidecar wording in a container's own stream

XRAY = _c("tracing", "public.ecr.aws/xray/aws-xray-daemon:3.3.12", 0)
XRAY_NOISE = ["2024-05-01T10:00:01Z [Error] Sending segment batch failed with: NoCredentialProviders: no valid "
              "providers in chain. Deprecated.",
              "\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors"]
REFUSED = ['psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: Connection refused']


def test_agent_wording_in_the_apps_own_labelled_stream_stays_the_apps():
    # the daemon's wording, but the app's own stream printed it: the app's line (the app embeds the daemon's client)
    got = run({"web": ["server started", *XRAY_NOISE]}, containers=[_c("web", "example/web:2", 1), XRAY])
    assert got.pattern == "iam-access-denied" and got.facts["container"] == "web"


def test_agent_wording_unlabelled_is_still_the_agents_noise():
    got = run([*REFUSED, *XRAY_NOISE], containers=[_c("web", "example/web:2", 1), XRAY])
    assert got.pattern == "database-connection-failed" and got.facts["container"] == "web"


def test_agent_wording_in_the_agents_own_stream_is_the_agents():
    got = run({"web": REFUSED, "tracing": XRAY_NOISE}, containers=[_c("web", "example/web:2", 1), XRAY])
    assert got.pattern == "database-connection-failed" and got.facts["container"] == "web"


def test_agent_wording_under_a_label_naming_no_container_is_the_agents_noise():
    # a paste labelled with a stream name the task does not have: no container's own stream, so the wording decides
    got = run({"web": REFUSED, "sidecar-logs": XRAY_NOISE}, containers=[_c("web", "example/web:2", 1), XRAY])
    assert got.pattern == "database-connection-failed" and got.facts["container"] == "web"
