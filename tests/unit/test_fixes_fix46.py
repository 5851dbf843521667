"""fix46: dev34's graded findings, each by a general rule beside a near miss the rule must leave alone.

015: a proxy's upstream that is no container of an awsvpc task, where the task shows bare service names are meant
to resolve (a DNS search domain written by an init container, Service Connect), is first checked for the service
running and being registered, not rewritten; and the general advice names no bare `<name>.<namespace>`.
"""

from __future__ import annotations

from typing import Any

from shared import remediation as remedy
from shared.models.finding import Finding
from shared.render import steps as render_steps
from tests.support.fixcheck import command_problems
from tests.unit.helpers import evidence, run

_UPSTREAM = 'nginx: [emerg] host not found in upstream "orders-api" in /etc/nginx/conf.d/default.conf:5'
_NGINX = {"name": "web", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.25"}
_SEARCH_INIT = {"name": "Web_ResolvConf_InitContainer", "exitCode": 0, "lastStatus": "STOPPED",
                "image": "docker/ecs-searchdomain-sidecar:1.0"}


def _proxy(*others: dict[str, Any]) -> Finding:
    return run({"web": [_UPSTREAM]}, containers=[*others, _NGINX])


def _commands_valid(step: str) -> None:
    for cmd in render_steps.commands(step):
        assert command_problems(cmd) == [], (cmd, command_problems(cmd))


# -- 015: a search domain written for the task: check the service runs and is registered -------------------------


def test_a_search_domain_init_container_that_exited_0_leads_with_the_registration_check():
    step = _proxy(_SEARCH_INIT).remediation[0]
    assert "Do not rewrite the name" in step and "Web_ResolvConf_InitContainer" in step
    assert "aws servicediscovery list-services --region us-east-1 --query \"Services[?Name=='orders-api']" in step
    assert "aws ecs describe-services --cluster prod --services $(aws ecs list-services --cluster prod" in step
    assert "Docker Compose ECS integration" in step and "<" not in step
    _commands_valid(step)


def test_any_resolv_conf_writer_counts_but_only_the_compose_image_is_called_compose():
    other = {"name": "resolvconf-init", "exitCode": 0, "lastStatus": "STOPPED", "image": "busybox:1.36"}
    step = _proxy(other).remediation[0]
    assert "Do not rewrite the name" in step and "Docker Compose" not in step


def test_near_miss_a_search_domain_init_container_that_failed_is_not_proof_the_name_should_resolve():
    failed = dict(_SEARCH_INIT, exitCode=1)
    got = remedy._unresolved_upstream(evidence({"web": [_UPSTREAM]}, containers=[failed, _NGINX]), _UPSTREAM)
    assert got and "Do not rewrite" not in got and "no container of this task" in got


def test_near_miss_an_unrelated_init_container_keeps_the_general_advice_without_bare_placeholders():
    init = {"name": "migrate-init", "exitCode": 0, "lastStatus": "STOPPED", "image": "flyway/flyway:10"}
    step = _proxy(init).remediation[0]
    assert "Do not rewrite" not in step and "Service Connect or Cloud Map" in step
    assert "`orders-api.` followed by the name of the namespace" in step
    assert "aws servicediscovery list-namespaces --region us-east-1 --query 'Namespaces[].Name'" in step
    assert render_steps.placeholders(step) == [], step
    _commands_valid(step)


def test_near_miss_a_sibling_of_that_name_is_still_its_localhost_port_despite_the_search_domain():
    sibling = {"name": "orders-api", "exitCode": 143, "lastStatus": "STOPPED"}
    step = _proxy(_SEARCH_INIT, sibling).remediation[0]
    assert "`127.0.0.1`" in step and "Do not rewrite" not in step


# -- 015: Service Connect ----------------------------------------------------------------------------------------


def test_a_task_with_the_service_connect_proxy_checks_who_publishes_the_name():
    sc = {"name": "ecs-service-connect-7Hk2p", "exitCode": 0, "lastStatus": "STOPPED",
          "image": "public.ecr.aws/ecs/aws-service-connect-agent:v1.29"}
    step = _proxy(sc).remediation[0]
    assert "Service Connect proxy (`ecs-service-connect-7Hk2p`)" in step and "Do not rewrite the name" in step
    assert "clientAliases[].dnsName" in step and "--force-new-deployment" in step
    _commands_valid(step)


# -- 015: a name the task's DNS must resolve is not reproduced by a laptop run -------------------------------------


def test_an_unresolved_upstream_gets_no_local_docker_run():
    rem = "\n".join(_proxy().remediation)
    assert "docker run" not in rem


def test_near_miss_an_nginx_directive_error_still_gets_the_local_run():
    got = run({"web": ["nginx: [emerg] unknown directive \"proxy_passs\" in /etc/nginx/conf.d/default.conf:9"]},
              containers=[_NGINX])
    assert "docker run" in "\n".join(got.remediation)
