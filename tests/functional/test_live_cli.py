"""The live CLI: `ecs-autopsy diagnose --cluster C --task T | --service S | --event E` against moto,
in-process and through the installed command against `moto_server` on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest
from moto import mock_aws

from shared.aws import Clients
from shared.cli import main
from shared.evidence import ecs
from shared.pipeline import diagnose_request
from tests.functional.aws_world import ACCOUNT, CLUSTER, CRASH_LOGS, REGION, SERVICE, World, container_def

ROOT = Path(__file__).resolve().parents[2]
NO_MODULE = ["Traceback (most recent call last):", '  File "/app/main.py", line 1, in <module>',
             "    import redis", "ModuleNotFoundError: No module named 'redis'"]
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
         "AWS_REGION": REGION}


@pytest.fixture
def aws(monkeypatch):
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    ecs.clear_cache()
    with mock_aws():
        yield Clients(REGION)
    ecs.clear_cache()


def stopped_task(aws: Clients, world: World, logs: list[str], started_by: str = "ecs-svc/1") -> str:
    task = aws("ecs").run_task(cluster=CLUSTER, taskDefinition=world.task_definition_arn, launchType="FARGATE",
                               group=f"service:{SERVICE}", startedBy=started_by)["tasks"][0]
    aws("ecs").stop_task(cluster=CLUSTER, task=task["taskArn"], reason="Essential container in task exited")
    world.write_logs("app", logs, task_id=task["taskArn"].rsplit("/", 1)[-1])
    return task["taskArn"]


def test_task_by_arn_prints_the_finding(aws, capsys):
    world = World.build(aws, [container_def()])
    arn = stopped_task(aws, world, CRASH_LOGS)
    assert main(["diagnose", "--cluster", CLUSTER, "--task", arn, "--format", "json"]) == 0
    finding = json.loads(capsys.readouterr().out)
    assert finding["pattern"] == "missing-env-var" and finding["task"]["task_arn"] == arn
    assert finding["facts"]["absent_from_task_definition"] == ["DATABASE_URL"]


def test_task_by_id_with_cluster_and_log_lines(aws, capsys):
    world = World.build(aws, [container_def()])
    arn = stopped_task(aws, world, [f"noise {i}" for i in range(50)] + CRASH_LOGS)
    tid = arn.rsplit("/", 1)[-1]
    assert main(["diagnose", "--cluster", CLUSTER, "--task", tid, "--log-lines", "6", "--format", "json",
                 "--region", REGION]) == 0
    finding = json.loads(capsys.readouterr().out)
    assert finding["pattern"] == "missing-env-var"
    assert not any("noise" in line for line in finding["log_excerpt"])


def test_service_prints_one_finding_per_distinct_cause(aws, capsys):
    world = World.build(aws, [container_def()])
    for _ in range(3):
        stopped_task(aws, world, CRASH_LOGS)
    stopped_task(aws, world, NO_MODULE)
    assert main(["diagnose", "--cluster", CLUSTER, "--service", SERVICE, "--format", "json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    patterns = sorted(json.loads(line)["pattern"] for line in lines)
    assert patterns == ["missing-dependency", "missing-env-var"]


def test_text_format_is_the_default(aws, capsys):
    world = World.build(aws, [container_def()])
    arn = stopped_task(aws, world, CRASH_LOGS)
    assert main(["diagnose", "--task", arn, "--no-color"]) == 0
    assert "DATABASE_URL" in capsys.readouterr().out


def test_deploy_event_file(aws, capsys, tmp_path):
    world = World.build(aws, [container_def()])
    for _ in range(2):
        stopped_task(aws, world, CRASH_LOGS, started_by="ecs-svc/42")
    event = {"version": "0", "id": "x", "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
             "account": ACCOUNT, "region": REGION, "time": "2026-11-27T11:00:00Z",
             "resources": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"],
             "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": "ecs-svc/42",
                        "reason": "ECS deployment circuit breaker: task failed to start."}}
    path = tmp_path / "deploy.json"
    path.write_text(json.dumps(event))
    assert main(["diagnose", "--event", str(path), "--format", "json"]) == 0
    finding = json.loads(capsys.readouterr().out)
    assert finding["scope"] == "deployment"
    assert finding["title"] == ("deploy ecs-svc/42 of orders-api failed: 2 tasks stopped, root cause "
                                "missing-env-var DATABASE_URL in 2/2")


def test_task_event_file_is_enriched_live(aws, capsys, tmp_path):
    world = World.build(aws, [container_def()])
    world.write_logs("app", CRASH_LOGS)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(world.stopped_event()))
    assert main(["diagnose", "--event", str(path), "--format", "json"]) == 0
    finding = json.loads(capsys.readouterr().out)
    assert finding["facts"]["absent_from_task_definition"] == ["DATABASE_URL"]
    assert finding["links"]["log_stream"]


def test_channel_formats_print_exactly_what_the_renderer_gives(aws, capsys, monkeypatch):
    seen = []

    def renderer(fmt):
        def render(finding):
            seen.append(finding.pattern)
            return json.dumps({"channel": fmt, "text": finding.title}) + "\n"
        return render

    module = types.ModuleType("shared.render.channels")
    module.renderer = renderer
    monkeypatch.setitem(sys.modules, "shared.render.channels", module)
    import shared.render as render_pkg

    monkeypatch.setattr(render_pkg, "channels", module, raising=False)
    world = World.build(aws, [container_def()])
    arn = stopped_task(aws, world, CRASH_LOGS)
    for fmt in ("slack", "sns", "chatbot"):
        assert main(["diagnose", "--task", arn, "--format", fmt]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["channel"] == fmt and "DATABASE_URL" in out["text"]
    assert seen == ["missing-env-var"] * 3


@pytest.mark.parametrize(("argv", "message"), [
    (["--service", SERVICE], "--service needs --cluster"),
    (["--task", "0123456789abcdef0123456789abcdef"], "--task needs --cluster"),
    (["--task", "0123456789abcdef0123456789abcdef", "--cluster", CLUSTER, "--offline"], "drop --offline"),
    (["--case", "x.json"], "--case files are diagnosed offline only"),
    (["--task", "0123456789abcdef0123456789abcdef", "--cluster", CLUSTER], "ECS no longer knows task"),
    (["--service", SERVICE, "--cluster", CLUSTER], "has no stopped task to diagnose"),
    (["--task", "0123456789abcdef0123456789abcdef", "--cluster", CLUSTER, "--log-lines", "0"], "--log-lines"),
])
def test_bad_requests_exit_2_with_one_line(aws, capsys, argv, message):
    World.build(aws, [container_def()])
    assert main(["diagnose", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_manual_requests(aws):
    world = World.build(aws, [container_def()])
    arn = stopped_task(aws, world, CRASH_LOGS)
    by_task = diagnose_request({"cluster": CLUSTER, "task": arn}, aws)
    by_service = diagnose_request({"cluster": CLUSTER, "service": SERVICE}, aws)
    by_event = diagnose_request(world.stopped_event(taskArn=arn), aws)
    assert [f.pattern for f in by_task + by_service + by_event] == ["missing-env-var"] * 3
    from shared.inputs import BadInput

    with pytest.raises(BadInput, match="expected"):
        diagnose_request({"cluster": CLUSTER}, aws)
    with pytest.raises(BadInput, match="SERVICE_DEPLOYMENT_COMPLETED is not a failure"):
        diagnose_request({"detail-type": "ECS Deployment State Change", "source": "aws.ecs", "resources": [],
                          "detail": {"eventName": "SERVICE_DEPLOYMENT_COMPLETED"}}, aws)


# -- the installed command against moto_server ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def moto_server():
    """The project's AWS stand-in: moto's server plus what moto lacks (service deployments, stop codes)."""
    from demo.standin import StandIn

    with StandIn(account=ACCOUNT).start() as aws:
        yield aws.url


def test_installed_cli_against_moto_server(moto_server, monkeypatch):
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    ecs.clear_cache()
    clients = Clients(REGION)
    world = World.build(clients, [container_def()])
    arn = stopped_task(clients, world, CRASH_LOGS)
    env = {**os.environ, **CREDS, "AWS_ENDPOINT_URL": moto_server, "NO_COLOR": "1"}
    cli = Path(sys.executable).with_name("ecs-autopsy")
    done = subprocess.run([str(cli), "diagnose", "--cluster", CLUSTER, "--task", arn, "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    finding = json.loads(done.stdout)
    assert finding["pattern"] == "missing-env-var"
    assert finding["facts"]["absent_from_task_definition"] == ["DATABASE_URL"]
    assert finding["links"]["log_stream"].endswith(arn.rsplit("/", 1)[-1])
    assert finding["gaps"] == []


def test_real_slack_payload_of_a_live_diagnosis(aws, capsys):
    world = World.build(aws, [container_def()])
    arn = stopped_task(aws, world, CRASH_LOGS)
    assert main(["diagnose", "--task", arn, "--format", "slack"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "DATABASE_URL" in payload["text"] and payload["blocks"]


def test_service_shows_what_changed_in_the_deploy(aws, capsys):
    """`diagnose --cluster C --service S`: the finding of the service's stopped task says what its deploy
    changed (the stand-in's service deployments and revisions, as ECS keeps them)."""
    world = World.build(aws, [container_def(env={"DATABASE_URL": "postgres://u:pw@db/orders"})])
    ecs_client = aws("ecs")
    ecs_client.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=world.task_definition_arn,
                              desiredCount=1)
    failing = ecs_client.register_task_definition(
        family=SERVICE, networkMode="bridge", cpu="512", memory="1024", containerDefinitions=[container_def()],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs_client.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=failing)
    deployment = ecs_client.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["deployments"][0]
    world.task_definition_arn = failing
    stopped_task(aws, world, CRASH_LOGS, started_by=deployment["id"])
    assert main(["diagnose", "--cluster", CLUSTER, "--service", SERVICE, "--no-color"]) == 0
    out = capsys.readouterr().out
    assert f"Changed in this deploy ({SERVICE}:1 -> {SERVICE}:2)" in out
    assert "DATABASE_URL was removed in revision 2; revision 1 had it" in out
    assert f"Roll back: aws ecs update-service --cluster {CLUSTER} --service {SERVICE} --task-definition {SERVICE}:1" in out
    assert "postgres://" not in out
