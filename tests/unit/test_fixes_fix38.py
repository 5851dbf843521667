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


# (2, 3) the run-time writer of a path: never a server by a shared word, never a sidecar that never exits

def _writer_step(path_line: str, *siblings: dict[str, Any], depends: tuple[tuple[str, str], ...] = (),
                 firelens: str | None = None) -> str:
    from dataclasses import replace

    from shared.engine import diagnose
    from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
    from tests.unit.helpers import evidence

    ev = evidence([path_line], containers=[*siblings, _c("billing", _ECR + "billing:2.0", 1)])
    defs = [ContainerDefinition(name="billing", depends_on=depends)]
    defs += [ContainerDefinition(name=s["name"], firelens=firelens if i == 0 else None) for i, s in enumerate(siblings)]
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:111122223333:task-definition/billing:3", containers=tuple(defs))
    return " ".join(diagnose(replace(ev, task_definition=td)).remediation)


def test_a_server_sibling_the_app_waits_on_to_finish_may_be_the_writer():
    # the same redis image, but the app waits for it to exit successfully: a one-off that writes, not a server
    steps = _writer_step("error: could not open settings /srv/billing/redis.conf", _c("redis", "redis:7", 0),
                         depends=(("redis", "SUCCESS"),))
    assert "`redis` of this task may write that path" in steps


def test_a_server_sibling_the_app_only_waits_to_start_is_no_writer():
    steps = _writer_step("error: could not open settings /srv/billing/nginx.conf", _c("nginx", "nginx:1.25", 0),
                         depends=(("nginx", "START"),))
    assert "/srv/billing/nginx.conf" in steps and "`nginx` of this task may write" not in steps


def test_an_init_container_named_for_a_server_is_still_a_writer():
    # near miss: 'init' says it prepares the file, the server word does not make it a server
    steps = _writer_step("error: could not open settings /srv/billing/redis.conf",
                         _c("redis-config-init", _ECR + "config-render:1", 0))
    assert "`redis-config-init` of this task may write that path" in steps


def test_a_metrics_agent_the_app_depends_on_is_no_writer():
    steps = _writer_step("FileNotFoundError: [Errno 2] No such file or directory: '/srv/billing/settings.toml'",
                         _c("metrics-agent", "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300", 0),
                         depends=(("metrics-agent", "START"),))
    assert "/srv/billing/settings.toml" in steps and "`metrics-agent` of this task may write" not in steps


def test_a_firelens_router_by_its_configuration_is_no_writer_even_named_for_the_path():
    # the router's name shares 'billing' with the path, and only its firelensConfiguration says what it is
    steps = _writer_step("FileNotFoundError: [Errno 2] No such file or directory: '/srv/billing/settings.toml'",
                         _c("billing-logs", _ECR + "custom-router:1", 0), firelens="fluentbit")
    assert "`billing-logs` of this task may write" not in steps


def test_a_secrets_init_the_app_depends_on_stays_the_writer():
    steps = _writer_step("FileNotFoundError: [Errno 2] No such file or directory: '/srv/billing/settings.toml'",
                         _c("secrets-init", _ECR + "fetcher:1", 0), depends=(("secrets-init", "SUCCESS"),))
    assert "`secrets-init` of this task may write that path" in steps


# (4) a memory-budget restart the process survived is not how it ended

RECYCLED = "[2024-05-01 10:00:00,000: WARNING/MainProcess] child process 41 exiting after exceeding memory limit " \
           "(512000KiB / 409600KiB)"
KEYERROR = ["Traceback (most recent call last):", '  File "/srv/jobs/main.py", line 40, in <module>',
            "    cfg = settings['REPORT_BUCKET']", "KeyError: 'REPORT_BUCKET'"]
BUDGET = "distributed.nanny - WARNING - Worker exceeded 95% memory budget. Restarting"
LOST = ["Traceback (most recent call last):", '  File "/srv/job/run.py", line 40, in main', "    client.gather(futures)",
        "distributed.scheduler.KilledWorker: ('sum-9f2', <WorkerState 'tcp://127.0.0.1:40101', name: 1>)"]
WORKER = [_c("worker", _ECR + "jobs:2.0", 1)]


def test_a_worker_restarted_after_its_budget_kill_survived_it():
    got = run([BUDGET, "distributed.nanny - INFO - Worker restarted", "processing partition 7", *KEYERROR],
              containers=WORKER)
    assert got.pattern != "out-of-memory"


def test_a_budget_kill_followed_only_by_its_restart_notice_and_the_lost_work_is_still_out_of_memory():
    # near miss: 'Restarting worker' is the kill itself going on, and the lost-worker traceback is what it caused
    got = run([BUDGET, "distributed.nanny - WARNING - Restarting worker", *LOST], containers=WORKER)
    assert got.pattern == "out-of-memory"


def test_a_budget_kill_after_the_last_success_is_still_out_of_memory():
    # near miss: work done BEFORE the kill says nothing of surviving it
    got = run(["[2024-05-01 10:00:00,000: INFO/MainProcess] Task jobs.report[a1] succeeded in 3.2s: None",
               BUDGET, *LOST], containers=WORKER)
    assert got.pattern == "out-of-memory"


def test_a_failed_task_after_the_recycle_is_no_sign_it_survived():
    # near miss: a line after the kill that reports a failure ('Task ... failed') is not work done
    got = run([BUDGET, "Task jobs.report[a1] completed with error: worker lost", *LOST], containers=WORKER)
    assert got.pattern == "out-of-memory"


def test_a_later_recycle_with_nothing_after_it_still_counts():
    got = run([RECYCLED, "Task jobs.report[a1] succeeded in 3.2s: None", BUDGET, *LOST], containers=WORKER)
    assert got.pattern == "out-of-memory"


def test_a_traceback_code_line_saying_finished_is_no_work_done():
    # near miss: the lost-work traceback quotes code ('# block until futures have finished'), not a report of work
    got = run([BUDGET, "Traceback (most recent call last):", '  File "/srv/job/run.py", line 40, in main',
               "    client.gather(futures)  # block until futures have finished", LOST[-1]], containers=WORKER)
    assert got.pattern == "out-of-memory"
