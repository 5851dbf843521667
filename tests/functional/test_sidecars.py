"""Culprit and victim through the task-stopped handler, on the local stand-in (issue 10).

Each test builds a task with sidecars in moto (task definition, log streams), sends the STOPPED event to
the handler, and reads what a subscriber receives on SNS: the culprit container, its evidence, the
victims shown as victims, and where FireLens-routed logs were (or were not) read.
"""

from __future__ import annotations

import json
import time
from typing import Any

from demo.lambda_local import invoke
from tests.functional.aws_world import ACCOUNT, CLUSTER, LOG_GROUP, REGION, SERVICE, World, container_def
from tests.functional.test_handlers import env  # noqa: F401
from tests.support.aws import aws, drain  # noqa: F401

TASK = "5d1c0ffee5d1c0ffee5d1c0ffee5d1c0"  # not the env fixture's task: its streams are its own
ENVOY_IMAGE = "840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.27.3.0-prod"


def stopped(world: World, containers: list[dict], reason: str = "Essential container in task exited",
            **detail: Any) -> dict:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{TASK}"
    return world.stopped_event(containers=containers, stoppedReason=reason, taskArn=arn, **detail)


def finding_of(env: dict, event: dict) -> dict:  # noqa: F811
    invoke("task_stopped", event)
    messages = drain(env["queue"])
    assert len(messages) == 1
    return json.loads(messages[0]["Body"])


def sidecar(name: str, image: str, **kw: Any) -> dict:
    c = container_def(name, **kw)
    c["image"] = image
    return c


class Task(World):
    def write_logs(self, container: str, lines: list[str], task_id: str = TASK, prefix: str = "ecs",
                   group: str = LOG_GROUP) -> str:
        return super().write_logs(container, lines, task_id, prefix, group)


def build(env: dict, containers: list[dict]) -> Task:  # noqa: F811
    """A new revision of the service's task definition (the env fixture made the cluster and log group)."""
    world = Task(env["world"].clients)
    world.containers = containers
    td = world.clients("ecs").register_task_definition(
        family=SERVICE, networkMode="awsvpc", cpu="512", memory="1024", containerDefinitions=containers,
    )["taskDefinition"]
    world.task_definition_arn = td["taskDefinitionArn"]
    return world


def test_envoy_config_error_is_the_cause_and_the_app_its_victim(env):  # noqa: F811
    world = build(env, [container_def("app"), sidecar("envoy", ENVOY_IMAGE, ports=(9901,))])
    world.write_logs("envoy", [
        "[2024-05-02 10:00:01.101][1][info][main] [source/server/server.cc:413] initializing epoch 0",
        "[2024-05-02 10:00:01.102][1][critical][main] [source/server/server.cc:117] error initializing configuration "
        "'/etc/envoy/envoy.yaml': Protobuf message (type envoy.config.bootstrap.v3.Bootstrap reason "
        "INVALID_ARGUMENT:(static_resources.listeners[0]) route_config: Cannot find field.) has unknown fields",
        "[2024-05-02 10:00:01.102][1][info][main] [source/server/server.cc:965] exiting",
    ])
    world.write_logs("app", ["orders-api listening on :8000",
                             "Error: connect ECONNREFUSED 127.0.0.1:15001",
                             "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
                             "received SIGTERM, shutting down"])
    f = finding_of(env, stopped(world, [{"name": "app", "exitCode": 143, "lastStatus": "STOPPED"},
                                        {"name": "envoy", "exitCode": 1, "lastStatus": "STOPPED",
                                         "image": ENVOY_IMAGE}]))
    assert f["facts"]["container"] == "envoy", json.dumps(f, indent=1)[:3000]
    assert "envoy" in f["title"] or "envoy" in f["summary"]
    assert any(e["source"] == "containers[app]" and "SIGTERM" in e["text"] and "after envoy" in e["text"]
               for e in f["evidence"])
    assert not f["title"].lower().startswith("app ")


def test_start_failure_names_the_container_that_never_ran_not_the_stopped_sidecar(env):  # noqa: F811
    otel = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/aws-otel-collector:v0.40.0"
    world = build(env, [sidecar("aws-otel-collector", otel, ports=(4317,)), container_def("web")])
    reason = (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
              f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:2.0.1: not found")
    f = finding_of(env, stopped(world, [{"name": "aws-otel-collector", "exitCode": 143, "lastStatus": "STOPPED",
                                         "image": otel},
                                        {"name": "web", "lastStatus": "STOPPED",
                                         "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:2.0.1"}],
                                reason=reason, stopCode="TaskFailedToStart"))
    assert f["pattern"] == "image-pull-failed"
    assert f["facts"]["container"] == "web"
    assert "web:2.0.1" in f["facts"]["image"]


def test_a_log_router_that_crashes_is_its_own_failure_not_the_log_driver(env):  # noqa: F811
    router = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
    world = build(env, [container_def("app"), sidecar("log_router", router, ports=())])
    world.write_logs("log_router", ["Fluent Bit v1.9.10",
                                    "[2025/09/23 15:06:54] [error] [config] section 'env' is missing the 'name' property",
                                    "[2025/09/23 15:06:54] [error] configuration file contains errors, aborting."])
    f = finding_of(env, stopped(world, [{"name": "app", "exitCode": 143, "lastStatus": "STOPPED"},
                                        {"name": "log_router", "exitCode": 1, "lastStatus": "STOPPED",
                                         "image": router}]))
    assert f["pattern"] != "log-driver-failed"
    assert f["facts"]["container"] == "log_router"
    assert any(e["source"] == "containers[app]" for e in f["evidence"])


def test_a_log_router_killed_for_memory_is_out_of_memory_of_the_router(env):  # noqa: F811
    router = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
    world = build(env, [container_def("app"), sidecar("log_router", router, ports=())])
    f = finding_of(env, stopped(world, [
        {"name": "app", "exitCode": 143, "lastStatus": "STOPPED"},
        {"name": "log_router", "exitCode": 137, "lastStatus": "STOPPED", "image": router,
         "reason": "OutOfMemoryError: Container killed due to memory usage"}]))
    assert f["pattern"] == "out-of-memory" and f["facts"]["container"] == "log_router"


def test_a_failed_init_container_is_the_culprit_and_the_app_waited_for_it(env):  # noqa: F811
    world = build(env, [container_def("migrate"), container_def("app")])
    world.write_logs("migrate", ["Running migrations...", "Traceback (most recent call last):",
                                 '  File "/app/manage.py", line 22, in <module>',
                                 "django.db.utils.ProgrammingError: relation \"orders\" does not exist"])
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/migrate:1.4.2"
    waiting = ("CannotStartContainerError: dependency graph: failed to resolve container ordering dependency "
               f"[migrate({image}) (STOPPED->RUNNING) - Exit: 1] for target [app({image}) (NONE->RUNNING)] as "
               "dependency did not exit successfully.")
    f = finding_of(env, stopped(world, [{"name": "migrate", "exitCode": 1, "lastStatus": "STOPPED"},
                                        {"name": "app", "lastStatus": "STOPPED", "reason": waiting}]))
    assert f["facts"]["container"] == "migrate"
    assert f["pattern"] != "container-start-failed"
    assert any(e["source"] == "containers[app]" and "waits for migrate" in e["text"] for e in f["evidence"])


def _firelens(name: str, options: dict[str, str]) -> dict:
    c = container_def(name)
    c["logConfiguration"] = {"logDriver": "awsfirelens", "options": options}
    return c


def test_firelens_to_cloudwatch_is_read_where_the_router_sends_it(env):  # noqa: F811
    router = sidecar("log_router", "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", ports=())
    router["firelensConfiguration"] = {"type": "fluentbit"}
    app = _firelens("app", {"Name": "cloudwatch_logs", "region": REGION, "log_group_name": LOG_GROUP,
                            "log_stream_prefix": "fl-"})
    world = build(env, [app, router])
    world.write_logs("app", ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                             "KeyError: 'STRIPE_API_KEY'"], prefix="unused")  # the awslogs-style stream: not read
    logs = world.clients("logs")
    stream = f"fl-app-firelens-{TASK}"
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=[
        {"timestamp": int(time.time() * 1000) - 10 + i, "message": m} for i, m in enumerate([
            "Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
            "KeyError: 'DATABASE_URL'"])])
    f = finding_of(env, stopped(world, [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"},
                                        {"name": "log_router", "exitCode": 143, "lastStatus": "STOPPED"}]))
    assert f["pattern"] == "missing-env-var" and f["facts"]["variable"] == "DATABASE_URL", (f["gaps"], f["log_excerpt"])


def test_firelens_elsewhere_names_the_destination_and_never_shows_router_lines_as_the_apps(env):  # noqa: F811
    router = sidecar("log_router", "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", ports=())
    router["firelensConfiguration"] = {"type": "fluentbit"}
    app = _firelens("app", {"Name": "es", "Host": "search-logs.eu-west-1.es.amazonaws.com", "Index": "orders"})
    world = build(env, [app, router])
    world.write_logs("log_router", ["[2024/05/02 10:00:00] [ info] [output:es:es.0] worker #0 started",
                                    "[2024/05/02 10:00:09] [ warn] [engine] chunk flush retry"])
    f = finding_of(env, stopped(world, [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"},
                                        {"name": "log_router", "exitCode": 143, "lastStatus": "STOPPED"}]))
    assert f["facts"].get("container", "app") == "app"
    assert any("Elasticsearch/OpenSearch" in g and "search-logs.eu-west-1.es.amazonaws.com" in g and "orders" in g
               for g in f["gaps"])
    assert all(line.startswith("[log_router] ") for line in f["log_excerpt"])
