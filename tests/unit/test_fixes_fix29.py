"""fix29: the graded faults of dev28/dev29 as general rules, each with a near miss that keeps today's answer: an nginx
upstream in an EC2 task without its own network interface, GPU memory exhaustion, a port held in host network mode,
panics in a third-party image or with the framework's own "use X instead", and exec format errors on an architecture
the event does not show."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run


def _steps(got: Any) -> str:
    return " ".join(got.remediation)


_INSTANCE = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/16c18f40065d2cf2"


# -- nginx upstream named after a container of an EC2 task with no ENI: links (bridge) or 127.0.0.1 (host) ----------

_UPSTREAM = 'nginx: [emerg] host not found in upstream "backend:9000" in /etc/nginx/conf.d/site.conf:3'


def _proxy(*names: str, **detail: Any) -> str:
    containers = [{"name": "edge", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.27"},
                  *({"name": n, "exitCode": 0, "lastStatus": "STOPPED"} for n in names)]
    base: dict[str, Any] = {"launchType": "EC2", "attachments": [], "containerInstanceArn": _INSTANCE}
    base.update(detail)
    return run({"edge": [_UPSTREAM]}, containers=containers, **base).remediation[0]


def test_an_upstream_named_after_a_container_of_an_ec2_task_without_an_eni_is_a_links_entry():
    step = _proxy("backend")
    assert '"links": ["backend"]' in step and "taskDefinition.networkMode" in step
    assert step.index("links") < step.index("127.0.0.1:9000")


def test_an_upstream_that_is_no_container_of_an_ec2_task_without_an_eni_gets_no_links_advice():
    step = _proxy("worker")
    assert "links" not in step


def test_an_upstream_named_after_a_container_in_awsvpc_stays_localhost_without_links():
    step = run({"edge": [_UPSTREAM]},
               containers=[{"name": "edge", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.27"},
                           {"name": "backend", "exitCode": 0, "lastStatus": "STOPPED"}]).remediation[0]
    assert "`127.0.0.1:9000`" in step and "links" not in step.split("works only in bridge mode")[1]
