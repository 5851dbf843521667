"""review25 probes: defects found in fix35-fix37 and acc25, each an xfail(strict) test asserting the right behaviour."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.engine import diagnose
from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
from tests.unit.helpers import evidence, run

_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/"
_TD = "arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12"


def _c(name: str, image: str, code: int) -> dict[str, Any]:
    return {"name": name, "exitCode": code, "lastStatus": "STOPPED", "image": image}


def test_telegraf_apps_own_stream_line_is_not_the_cloudwatch_agents() -> None:
    logs = {"metrics": ["2024-05-01T10:00:00Z I! Starting Telegraf 1.30.0",
                        '2024-05-01T10:00:01Z E! [outputs.influxdb] When writing to [http://influx:8086]: Post '
                        '"http://influx:8086/write": dial tcp 10.0.0.5:8086: connect: connection refused'],
            "cwagent": ["2024-05-01T10:00:00Z I! [logagent] starting"]}
    containers = [_c("metrics", "telegraf:1.30", 1),
                  _c("cwagent", "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300", 0)]
    alone = run({"metrics": logs["metrics"]}, containers=containers[:1])
    assert alone.pattern == "database-connection-failed"  # the same line without the sidecar in the task
    got = run(logs, containers=containers)
    assert got.pattern == "database-connection-failed" and got.facts.get("container") == "metrics"


def test_a_server_sibling_sharing_a_path_word_is_no_runtime_writer() -> None:
    got = run(["error: could not open settings /srv/billing/redis.conf"],
              containers=[_c("redis", "redis:7", 0), _c("billing", _ECR + "billing:2.0", 1)])
    assert "could not be read" in got.remediation[0]
    assert "`redis` of this task may write that path" not in got.remediation[0]


def test_a_log_router_the_app_depends_on_is_no_runtime_writer() -> None:
    ev = evidence(["FileNotFoundError: [Errno 2] No such file or directory: '/srv/billing/settings.toml'"],
                  containers=[_c("log-agent", "amazon/aws-for-fluent-bit:2", 0),
                              _c("billing", _ECR + "billing:2.0", 1)])
    td = TaskDefinitionFacts(arn=_TD, containers=(
        ContainerDefinition(name="billing", depends_on=(("log-agent", "START"),)),
        ContainerDefinition(name="log-agent", firelens="fluentbit")))
    steps = " ".join(diagnose(replace(ev, task_definition=td)).remediation)
    assert "/srv/billing/settings.toml" in steps
    assert "`log-agent` of this task may write that path" not in steps


_RECYCLED = ["[2024-05-01 10:00:00,000: WARNING/MainProcess] child process 41 exiting after exceeding memory limit "
             "(512000KiB / 409600KiB)",
             "[2024-05-01 10:00:05,000: INFO/MainProcess] Task jobs.report[abc] succeeded in 3.2s: None"]
_KEYERROR = ["Traceback (most recent call last):", '  File "/srv/jobs/main.py", line 40, in <module>',
             "    cfg = settings['REPORT_BUCKET']", "KeyError: 'REPORT_BUCKET'"]


def test_a_recycled_child_the_worker_survived_does_not_outrank_a_later_crash() -> None:
    app = [_c("worker", _ECR + "jobs:2.0", 1)]
    assert run(_KEYERROR, containers=app).pattern != "out-of-memory"  # the crash alone
    assert run(_RECYCLED + _KEYERROR, containers=app).pattern != "out-of-memory"
