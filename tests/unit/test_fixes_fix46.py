"""fix46: dev34's graded findings, each by a general rule beside a near miss the rule must leave alone.

015: a proxy's upstream that is no container of an awsvpc task, where the task shows bare service names are meant
to resolve (a DNS search domain written by an init container, Service Connect), is first checked for the service
running and being registered, not rewritten; and the general advice names no bare `<name>.<namespace>`.
002: an init runner's "51-docker.sh: exited 1." is a wrapper: the script's own error above it is quoted and acted on;
an `mv` whose source an image's start-up script moves away is missing after an in-place restart (restartPolicy).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared import remediation as remedy
from shared.engine import diagnose
from shared.evidence.ecs import _container
from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
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


# -- 002: an init script's exit report is a wrapper; a moved file missing on a second start ---------------------

_AGENT = {"name": "agent", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/agent:2.3.1"}
_APP = {"name": "app", "exitCode": 143, "lastStatus": "STOPPED"}
_MOVED = "mv: cannot stat '/etc/agent/conf.d/docker.d/conf.yaml.example': No such file or directory"


def _init(*script_lines: str, before: tuple[str, ...] = ()) -> list[str]:
    return [*before, "[cont-init.d] 01-check-key.sh: executing...", "[cont-init.d] 01-check-key.sh: exited 0.",
            "[cont-init.d] 51-docker.sh: executing...", *script_lines, "[cont-init.d] 51-docker.sh: exited 1."]


def _agent(lines: list[str], **detail: Any) -> Finding:
    return run({"agent": lines}, containers=[_APP, _AGENT], **detail)


def test_the_scripts_own_error_above_its_exit_report_is_the_one_quoted():
    got = _agent(_init(_MOVED))
    assert got.facts["exception"] == _MOVED and got.facts["container"] == "agent"
    assert "51-docker.sh: exited 1" not in got.remediation[0]


def test_a_move_an_init_script_failed_points_at_an_in_place_restart_and_a_volume_and_says_how_to_check():
    step = _agent(_init(_MOVED)).remediation[0]
    assert "start-up script `51-docker.sh` moves away" in step and "`restartPolicy`" in step
    assert "[restartPolicy, mountPoints]" in step and "upgrade `example/agent:2.3.1`" in step
    assert "over `/etc/agent/conf.d/docker.d`" in step and "add it (a COPY in the Dockerfile" not in step
    _commands_valid(step)


def test_a_restart_the_evidence_shows_leads_the_step():
    twice = _agent(_init(_MOVED, before=("[cont-init.d] 51-docker.sh: executing...",
                                         "[cont-init.d] 51-docker.sh: exited 0.", "agent started",
                                         "fatal: lost connection to the collector")))
    assert "the log shows `51-docker.sh` starting 2 times" in twice.remediation[0]
    ev = evidence({"agent": _init(_MOVED)}, containers=[_APP, _AGENT])
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12",
                             containers=(ContainerDefinition(name="agent", image="example/agent:2.3.1", restarts=True),
                                         ContainerDefinition(name="app")))
    step = diagnose(replace(ev, task_definition=td)).remediation[0]
    assert "its task definition enables a `restartPolicy`" in step and "mounted over" not in step


def test_the_task_definitions_restart_policy_is_read():
    assert _container({"name": "a", "restartPolicy": {"enabled": True, "restartAttemptPeriod": 60}}).restarts
    assert not _container({"name": "a", "restartPolicy": {"enabled": False}}).restarts
    assert not _container({"name": "a"}).restarts


def test_near_miss_a_script_that_printed_no_error_keeps_its_exit_report_not_an_earlier_scripts_line():
    got = _agent(["[cont-init.d] 01-check-key.sh: executing...", "warning: key file not found, using the variable",
                  "[cont-init.d] 01-check-key.sh: exited 0.", "[cont-init.d] 51-docker.sh: executing...",
                  "[cont-init.d] 51-docker.sh: exited 1."])
    assert got.facts["exception"] == "[cont-init.d] 51-docker.sh: exited 1."


def test_near_miss_a_move_outside_any_start_up_script_keeps_the_missing_file_advice():
    got = run({"app": [_MOVED.replace("/etc/agent/conf.d/docker.d/conf.yaml.example", "/app/dist/server.js")]},
              containers=[dict(_APP, exitCode=1)])
    step = got.remediation[0]
    assert "restartPolicy" not in step and "is not there when the container starts" in step


def test_near_miss_a_copy_in_an_init_script_is_no_moved_file():
    step = _agent(_init(_MOVED.replace("mv:", "cp:"))).remediation[0]
    assert "restartPolicy" not in step


# -- 009: an error that names its own remedy is turned into the change, with the known port -----------------------

_KTOR = ('Exception in thread "main" java.lang.IllegalArgumentException: Neither port nor sslPort specified. Use command '
         'line options -port/-sslPort or configure connectors in application.conf')
_FRAMES = ["\tat io.ktor.server.engine.CommandLineKt.commandLineEnvironment(CommandLine.kt:50)",
           "\tat io.ktor.server.netty.EngineMain.main(EngineMain.kt:16)"]


def test_a_port_option_the_message_names_is_read_from_the_task_definition_when_the_event_has_no_port():
    step = run([_KTOR, *_FRAMES]).remediation[0]
    assert not step.startswith("Fix the error") and "pass `-port=` and the port the task maps for `app`" in step
    assert "portMappings[].containerPort | [0]\" --output text" in step
    assert "`application.conf` from its classpath" in step and "<" not in step
    _commands_valid(step)


def test_a_port_the_event_binds_is_put_in_the_option():
    app = {"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/quotes:1.0.0",
           "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 8080, "hostPort": 32768, "protocol": "tcp"}]}
    step = run([_KTOR, *_FRAMES], containers=[app], launchType="EC2", attachments=[],
               containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/abc").remediation[0]
    assert '`"command": ["-port=8080"]`' in step


def test_options_that_are_no_port_are_named_as_they_are():
    step = run(["error: no target specified. Use options --target/--url"]).remediation[0]
    assert "pass `--target` or `--url`" in step and "classpath" not in step


def test_near_miss_a_missing_setting_whose_message_names_no_option_is_not_turned_into_one():
    step = run(['Exception in thread "main" java.lang.IllegalArgumentException: port not specified', *_FRAMES]
               ).remediation[0]
    assert "pass `" not in step and "-port=" not in step


def test_near_miss_only_a_tls_port_option_gets_no_plain_port_value():
    step = run(["error: no listener configured. Use option -sslPort"]).remediation[0]
    assert "-sslPort=" not in step and "pass `-sslPort`" in step


# -- 011: a stop reason that names a deployment is told as that deployment's, not as a bare scale-in ---------------


def _scaled(reason: str) -> Finding:
    return run(["INFO: Shutting down", "INFO: Bye!"], stopCode="ServiceSchedulerInitiated", stoppedReason=reason,
               containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"}])


def test_a_scaling_stop_that_names_its_deployment_says_replacement_or_scale_in_by_that_deployment():
    got = _scaled("Scaling activity initiated by (deployment ecs-svc/7286950128419832711)")
    assert got.pattern == "expected-stop" and got.facts["reason"] == "scale-in"
    assert got.title.endswith("Expected stop (deployment ecs-svc/7286950128419832711: replacement or scale-in)")
    assert "deployment ecs-svc/7286950128419832711 stopped it: a deployment replacing" in got.summary


def test_near_miss_a_scaling_stop_naming_no_deployment_stays_a_scale_in():
    got = _scaled("Scaling activity initiated by service auto scaling")
    assert got.pattern == "expected-stop" and got.title.endswith("Expected stop (scale-in)")


# -- 008: a rebuilt image pinned by digest needs a new revision before the roll-out ------------------------------

_BUN = ["error: Cannot find package 'bufferutil' from '/app/node_modules/ws/lib/buffer-util.js'"]
_DIGEST = "111122223333.dkr.ecr.us-east-1.amazonaws.com/gateway@sha256:" + "9c2e4b7d" * 8


def _missing(image: str) -> str:
    got = run(_BUN, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": image}])
    assert got.pattern == "missing-dependency", got.pattern
    return "\n".join(got.remediation)


def test_an_image_pinned_by_digest_gets_a_new_revision_with_the_new_digest_before_the_roll_out():
    rem = _missing(_DIGEST)
    assert "pins the image by digest" in rem and "register a new revision" in rem
    assert rem.index("register a new revision") < rem.index("--force-new-deployment")


def test_near_miss_an_image_by_tag_rolls_out_as_before():
    rem = _missing("111122223333.dkr.ecr.us-east-1.amazonaws.com/gateway:1.4.2")
    assert "pins the image by digest" not in rem and "--force-new-deployment" in rem


# -- 006: a listening line printed right before the bind failure is the same attempt, not an earlier bind ----------

_PANIC = "panic: listen tcp :4000: bind: address already in use"
_API_AND_NGINX = [{"name": "api", "exitCode": 2, "lastStatus": "STOPPED", "image": "example/ping-api:0.1.0"},
                  {"name": "nginx", "exitCode": 0, "lastStatus": "STOPPED", "image": "nginx:1.25"}]


def _twice(lines: list[str]) -> bool:
    got = run({"api": lines}, containers=_API_AND_NGINX)
    assert got.pattern == "port-in-use", got.pattern
    return any(s.startswith("Make sure the server is started once") for s in got.remediation)


def test_a_pre_bind_announcement_right_before_the_failure_is_no_double_start():
    assert not _twice(["[GIN-debug] GET /ping --> main.main.func1 (3 handlers)",
                       "[GIN-debug] Listening and serving HTTP on :4000", _PANIC])


def test_near_miss_an_announcement_with_lines_after_it_is_an_earlier_bind():
    assert _twice(["Listening and serving HTTP on :4000", "connected to redis at cache:6379", _PANIC])


def test_near_miss_an_adjacent_announcement_of_another_server_is_a_second_bind():
    assert _twice(["metrics: serving /metrics on :4000", _PANIC])


# -- 003: a one-off copy that starts long-running containers besides the probed one says so and how to stop it ---

_PG_DNS = ['PG::ConnectionBad: could not translate host name "db" to address: Name or service not known']
_WAITS = ("CannotStartContainerError: dependency graph: failed to resolve container ordering dependency "
          "[migrate(example/app:1) (STOPPED->RUNNING) - Exit: 1] for target [web(example/app:1) (NONE->RUNNING)] as "
          "dependency did not exit successfully.")


def _probe_step(containers: list[dict[str, Any]], **kw: Any) -> str:
    got = run({"migrate": _PG_DNS}, containers=containers, **kw)
    return next(s for s in got.remediation if "one-off copy" in s)


def test_a_probe_of_an_init_container_others_wait_on_says_they_start_and_how_to_stop_the_copy():
    step = _probe_step([{"name": "migrate", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/app:1"},
                        {"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "reason": _WAITS}])
    assert "--started-by ecs-autopsy-probe" in step and "other containers too (`web`)" in step
    assert "aws ecs stop-task --cluster prod --task \"$(aws ecs list-tasks --cluster prod --started-by" in step
    _commands_valid(step)


def test_near_miss_a_probe_of_the_essential_app_beside_a_sidecar_needs_no_stop():
    step = _probe_step([{"name": "migrate", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/app:1"},
                        {"name": "datadog-agent", "exitCode": 143, "lastStatus": "STOPPED",
                         "image": "public.ecr.aws/datadog/agent:7"}])
    assert "--started-by" not in step and "stop-task" not in step


def test_near_miss_nodes_listening_callback_right_before_eaddrinuse_is_an_earlier_bind():
    # Node prints "listening" from the callback of a bind that succeeded: a second listen then fails.
    assert _twice(["Server listening on port 4000", "Error: listen EADDRINUSE: address already in use :::4000"])
