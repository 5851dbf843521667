"""Advice whose first step targeted another sub-cause or said something untrue (issue 13, dev26/dev27 grading):
each rule comes with a near miss that keeps today's step."""

from __future__ import annotations

from tests.unit.helpers import run

_PULL = {"stopCode": "TaskFailedToStart", "launchType": "EC2", "attachments": []}


def _pull(reason: str, image: str) -> list[str]:
    got = run([], stoppedReason=f"CannotPullContainerError: {reason}",
              containers=[{"name": "web", "lastStatus": "STOPPED", "image": image}], **_PULL)
    assert got.pattern == "image-pull-failed"
    return got.remediation


def test_manifest_unknown_on_a_public_repository_is_a_missing_tag_not_missing_credentials():
    steps = _pull("Error response from daemon: manifest for acme/worker:3.1.4-slim not found: manifest unknown: "
                  "manifest unknown", "acme/worker:3.1.4-slim")
    assert "repositoryCredentials" not in " ".join(steps)
    assert "no such tag" in steps[0] and "hub.docker.com/v2/repositories/acme/worker/tags" in steps[0]
    assert "name=3.1" in steps[0]


def test_a_not_found_without_the_registrys_manifest_answer_keeps_the_private_repository_advice():
    steps = _pull("Error: image acme/worker:3.1.4-slim not found", "acme/worker:3.1.4-slim")
    assert steps[0].startswith("Check the image name and tag") and "repositoryCredentials" in steps[0]


_DOTNET_HOST = ["You must install or update .NET to run this application.", "App: /app/Shop.Api.dll",
                "Architecture: x64", "Framework: 'Microsoft.NETCore.App', version '{want}' (x64)",
                ".NET location: /usr/share/dotnet/", "The following frameworks were found:",
                "  {have} at [/usr/share/dotnet/shared/Microsoft.NETCore.App]"]


def _dotnet(want: str, have: str, image: str) -> list[str]:
    got = run([line.format(want=want, have=have) for line in _DOTNET_HOST],
              containers=[{"name": "app", "exitCode": 150, "lastStatus": "STOPPED", "image": image}])
    assert got.pattern == "missing-dependency" and got.facts["installed"] == have
    return got.remediation


def test_a_dotnet_app_newer_than_the_images_runtime_is_a_rebuild_naming_both_versions():
    steps = _dotnet("8.0.4", "6.0.29", "shopco/shop-api:2.3.0")
    assert "Microsoft.NETCore.App 8.0.4" in steps[0] and "only 6.0.29" in steps[0] and "an older .NET runtime" in steps[0]
    assert "mcr.microsoft.com/dotnet/runtime:8.0" in steps[0] and "net6.0" in steps[0]
    assert "the fix is in the task definition" not in " ".join(steps)


def test_a_dotnet_runtime_message_without_the_installed_list_keeps_the_publish_step():
    got = run(["You must install or update .NET to run this application."],
              containers=[{"name": "app", "exitCode": 150, "lastStatus": "STOPPED",
                           "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/shop-api:2.3.0"}])
    assert got.pattern == "missing-dependency" and "installed" not in got.facts
    assert got.remediation[0].startswith("Publish with the runtime the app targets")


def _loader(binary: str, image: str) -> list[str]:
    got = run([f"{binary}: error while loading shared libraries: libbz2.so.1.0: cannot open shared object file: "
               "No such file or directory"],
              containers=[{"name": "job", "exitCode": 127, "lastStatus": "STOPPED", "image": image}],
              launchType="EC2", attachments=[])  # a host volume needs an EC2 host (none on Fargate)
    assert got.pattern == "missing-dependency"
    return got.remediation


def test_a_library_missing_for_a_program_that_is_not_the_images_own_is_not_blamed_on_the_published_tag():
    steps = _loader("/mnt/tools/gsutil/bin/gsutil", "quay.io/biocontainers/samtools:1.17--h00cdaf9_0")
    assert "missing for `/mnt/tools/gsutil/bin/gsutil`" in steps[0] and "mountPoints" in steps[0]
    assert "install the tool in the image instead of mounting it" in steps[0]
    assert "pin the release" not in " ".join(steps) and "maintainers' job" not in " ".join(steps)


def test_a_library_missing_for_the_images_own_program_keeps_the_published_tag_step():
    steps = _loader("/usr/local/bin/samtools", "quay.io/biocontainers/samtools:1.17--h00cdaf9_0")
    assert "rebuilding it is its maintainers' job" in steps[0] and "mountPoints" not in steps[0]


def _two_on_one_port(app_line: str) -> list[str]:
    logs = {"api": [app_line], "agent": ["Error: listen tcp 0.0.0.0:9411: bind: address already in use"]}
    got = run(logs, containers=[{"name": "api", "exitCode": 143, "lastStatus": "STOPPED"},
                                {"name": "agent", "exitCode": 1, "lastStatus": "STOPPED"}])
    assert got.pattern == "port-in-use"
    return got.remediation


def test_a_client_connecting_to_the_port_is_not_named_as_the_container_that_bound_it():
    steps = _two_on_one_port("WARN exporter: Failed to connect to http://localhost:9411/api/v2/spans: "
                             "connection refused")
    assert not any("bound port 9411 first" in s for s in steps)


def test_a_container_whose_log_shows_it_listening_on_the_port_is_still_named_as_its_holder():
    steps = _two_on_one_port("INFO Listening on http://0.0.0.0:9411")
    assert any("`api` of this task bound port 9411 first" in s for s in steps)


def _bind_80(line: str, image: str) -> str:
    got = run([line], containers=[{"name": "web", "exitCode": 1, "lastStatus": "STOPPED", "image": image}])
    return got.remediation[0]


def test_a_non_root_bind_to_a_privileged_port_is_moved_above_1024_not_given_net_bind_service():
    step = _bind_80("nginx: [emerg] bind() to 0.0.0.0:443 failed (13: Permission denied)", "nginx:1.25-alpine")
    assert "cannot bind port 443" in step and "listen 8443 ssl;" in step and "nginx-unprivileged" in step
    assert "does not help" in step and "linuxParameters.capabilities.add" not in step


def test_another_server_refused_a_privileged_port_gets_no_nginx_advice():
    step = _bind_80("listen tcp :80: bind: permission denied", "acme/proxy:2.0")
    assert "cannot bind port 80" in step and "nginx" not in step
    assert "linuxParameters.capabilities.add" not in step


def _pg_refusal(line: str):
    got = run([line])
    assert got.pattern == "database-connection-failed" and got.facts["cause"] == "auth"
    return got


def test_a_pg_hba_refusal_of_an_unencrypted_connection_asks_for_ssl_not_the_password():
    got = _pg_refusal('FATAL: no pg_hba.conf entry for host "10.0.3.7", user "app", database "orders", SSL off')
    assert "sslmode=require" in got.remediation[0] and "rotation" not in " ".join(got.remediation)
    assert "requires SSL" in got.summary


def test_a_pg_hba_refusal_with_encryption_keeps_the_credentials_steps():
    got = _pg_refusal('FATAL: no pg_hba.conf entry for host "10.0.3.7", user "app", database "orders", '
                      'SSL encryption')
    assert "sslmode" not in got.remediation[0] and "rotation" in got.remediation[0]


_APP_AND_DB = [{"name": "api", "exitCode": 1, "lastStatus": "STOPPED"},
               {"name": "postgres", "exitCode": 0, "lastStatus": "STOPPED", "image": "postgres:16"}]
# a Docker bridge-network address (bridge mode): the database container of the task, not an endpoint elsewhere
_REFUSED = 'level=fatal msg="dial tcp 172.17.0.3:5432: connect: connection refused"'


def test_a_database_container_of_the_task_ready_after_the_app_gave_up_is_a_dependson_healthy_step():
    got = run({"api": [_REFUSED], "postgres": ["LOG:  database system is ready to accept connections"]},
              containers=_APP_AND_DB, launchType="EC2", attachments=[])
    assert got.pattern == "database-connection-failed"
    assert '"condition": "HEALTHY"' in got.remediation[0] and "pg_isready" in got.remediation[0]
    assert "replica" not in " ".join(got.remediation)


def test_a_refusal_without_a_ready_line_from_a_database_container_keeps_the_endpoint_steps():
    got = run({"api": [_REFUSED], "postgres": ["LOG:  database system was shut down"]},
              containers=_APP_AND_DB, launchType="EC2", attachments=[])
    assert got.remediation[0].startswith("Something answered but nothing listens on 172.17.0.3:5432")


_PROXY_AND_API = [{"name": "proxy", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.25"},
                  {"name": "api", "exitCode": 143, "lastStatus": "STOPPED"}]
_UPSTREAM = 'nginx: [emerg] host not found in upstream "api:8000" in /etc/nginx/conf.d/default.conf:5'


def test_an_upstream_named_after_a_sibling_container_in_awsvpc_is_pointed_at_localhost():
    step = run({"proxy": [_UPSTREAM]}, containers=_PROXY_AND_API).remediation[0]
    assert "`127.0.0.1:8000`" in step and "/etc/nginx/conf.d/default.conf:5" in step
    assert "container `api` of this task" in step


def test_an_unresolved_upstream_in_an_ec2_task_without_an_eni_names_links_and_the_host_mode_alternative():
    # fix29: bridge or host (no ENI): links for bridge first, 127.0.0.1 only as the host-mode alternative
    step = run({"proxy": [_UPSTREAM]}, containers=_PROXY_AND_API, launchType="EC2", attachments=[],
               containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/abc").remediation[0]
    assert not step.startswith("Fix the error")
    assert step.index('"links": ["api"]') < step.index("in host mode") < step.index("127.0.0.1:8000")
