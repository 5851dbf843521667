"""review22's probes of the last rounds' rules: each rule fires only on the evidence it was made for (a late
database of the task, SSL-only pg_hba refusals, host-mounted tools, file paths, errno families, exception chains,
upstream names, digests, .NET versions, tag filters). Each probe comes with a near miss that keeps today's answer."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run

_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/exchange:latest"


def _bridge(*others: dict[str, Any]) -> dict[str, Any]:
    """An EC2 bridge-mode task (no network interface of its own, a dynamic host port): app plus `others`."""
    app = {"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _ECR,
           "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 4000, "hostPort": 32772, "protocol": "tcp"}]}
    return {"launchType": "EC2", "attachments": [], "containers": [app, *others],
            "containerInstanceArn": "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/16c18f40065d2cf2"}


def _steps(got: Any) -> str:
    return " ".join(got.remediation)


# -- 1. a server of the task that became ready late is the database only when engine and address match ----------


def test_a_redis_cache_ready_late_is_no_reason_to_wait_for_it_when_an_rds_host_refused():
    got = run({"app": ["level=fatal msg=\"failed to connect to `host=orders.cluster-abc.us-east-1.rds.amazonaws.com "
                       "user=app database=app`: dial error (dial tcp 10.0.12.7:5432: connect: connection refused)\""],
               "cache": ["1:M 29 Oct 2023 12:38:57.655 * Ready to accept connections tcp"]},
              **_bridge({"name": "cache", "exitCode": 0, "lastStatus": "STOPPED", "image": "redis:7"}))
    assert got.pattern == "database-connection-failed"
    steps = _steps(got)
    assert "dependsOn" not in steps and "pg_isready" not in steps and "became ready only after" not in steps


def test_a_postgres_container_ready_late_at_its_bridge_address_still_gets_depends_on_healthy():
    got = run({"app": ["level=fatal msg=\"dial tcp 172.24.0.2:5432: connect: connection refused\""],
               "db": ["LOG:  database system is ready to accept connections"]},
              **_bridge({"name": "db", "exitCode": 0, "lastStatus": "STOPPED", "image": "postgres:15"}))
    steps = _steps(got)
    assert "became ready only after" in steps and "pg_isready -h localhost" in steps


def test_a_redis_container_ready_late_under_its_own_name_gets_a_redis_health_check():
    got = run({"app": ["Error: Redis connection to cache:6379 failed - connect ECONNREFUSED 172.17.0.3:6379"],
               "cache": ["1:M 29 Oct 2023 12:38:57.655 * Ready to accept connections tcp"]},
              **_bridge({"name": "cache", "exitCode": 0, "lastStatus": "STOPPED", "image": "redis:7"}))
    steps = _steps(got)
    assert "became ready only after" in steps and "redis-cli ping" in steps and "pg_isready" not in steps


# -- 2. pg_hba refusals: SSL-only only when the SSL attempt was not refused too; a task's own server ----------------

_HBA = 'FATAL:  no pg_hba.conf entry for host "10.0.1.23", user "app", database "orders", '


def test_refused_both_with_and_without_ssl_is_a_missing_pg_hba_line_not_ssl_required():
    got = run([f'connection to server at "10.0.3.15", port 5432 failed: {_HBA}SSL encryption',
               f'connection to server at "10.0.3.15", port 5432 failed: {_HBA}no encryption'])
    assert got.pattern == "database-connection-failed"
    steps = _steps(got)
    assert "hostssl orders app <subnet CIDR>" in steps and "subnet-0a1b2c3d4e5f60718" in steps
    assert "sslmode=require" not in steps and "requires SSL" not in got.summary


def test_refused_only_without_ssl_stays_the_ssl_required_reading():
    got = run([f'connection to server at "10.0.3.15", port 5432 failed: {_HBA}no encryption'])
    assert "sslmode=require" in _steps(got) and "requires SSL" in got.summary


def test_the_task_own_postgres_refusing_an_unencrypted_login_is_not_said_to_require_ssl():
    got = run({"app": ['psql: error: connection to server at "db" (172.17.0.3), port 5432 failed: '
                       + _HBA.replace("10.0.1.23", "172.17.0.2") + "no encryption"]},
              **_bridge({"name": "db", "exitCode": 0, "lastStatus": "STOPPED", "image": "postgres:16"}))
    assert got.pattern == "database-connection-failed" and got.facts["host"] == "db"
    steps = _steps(got)
    assert "no non-SSL line" in steps and "sslmode=require" in steps and "`host` line" in steps
    assert "rds.force_ssl" not in steps and "requires SSL" not in got.summary


# -- 3. a program the loader failed on counts as host-mounted only for a tool directory on EC2 ----------------------

_BATCH = {"clusterArn": "arn:aws:ecs:eu-west-2:111122223333:cluster/AWSBatch-genomics-0a7d3e21",
          "launchType": "EC2", "attachments": []}


def _lib(binary: str, image: str, **detail: Any) -> str:
    got = run([f"{binary}: error while loading shared libraries: libz.so.1: cannot open shared object file: "
               "No such file or directory"],
              containers=[{"name": "default", "exitCode": 127, "lastStatus": "STOPPED", "image": image}],
              **detail)
    assert got.pattern == "missing-dependency"
    return _steps(got)


def test_a_vendor_runtime_or_standard_path_of_the_image_is_not_a_host_mounted_tool():
    for binary, image in (("/opt/bitnami/java/bin/java", "bitnami/kafka:3.7.0"),
                          ("/opt/java/openjdk/bin/java", "jenkins/jenkins:2.440-jdk17"),
                          ("/usr/local/bin/node", "ghcr.io/acme/webshop:2.1.0")):
        assert "not named after" not in _lib(binary, image, **_BATCH), binary


def test_fargate_has_no_host_volumes_so_no_host_mounted_tool():
    assert "not named after" not in _lib("/opt/aws-cli/bin/aws", "quay.io/biocontainers/fastqc:0.11.9")


def test_a_tool_directory_under_opt_on_batch_may_be_mounted_from_the_host():
    steps = _lib("/opt/aws-cli/bin/aws", "quay.io/biocontainers/fastqc:0.11.9", **_BATCH)
    assert "If this path is mounted from the host" in steps


# -- 4. a read-only path's directory is mounted only when the path is clearly a file ----------------------------


def _read_only(path: str, call: str = "os.makedirs(path, exist_ok=True)") -> str:
    got = run(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>', f"    {call}",
               f"OSError: [Errno 30] Read-only file system: '{path}'"])
    return _steps(got)


def test_a_dot_directory_or_a_conf_d_directory_is_mounted_itself_not_its_parent():
    assert "mountPoint at `/home/app/.cache` (or at a directory above it)" in _read_only("/home/app/.cache")
    assert "mountPoint at `/etc/app/conf.d` (or at a directory above it)" in _read_only("/etc/app/conf.d")


def test_a_log_file_or_a_file_the_app_opened_gets_its_directory_mounted():
    assert "mountPoint at `/app/log`," in _read_only("/app/log/app.log", "open(path, 'a')")
    got = run(['level=fatal msg="open /var/run/app/lockfile: read-only file system"'])
    assert "mountPoint at `/var/run/app`," in _steps(got)


# -- 5. only the errnos of files, permissions and ports are the environment's answer -------------------------------


def _lib_error(error: str) -> str:
    got = run(["Traceback (most recent call last):", '  File "/app/main.py", line 8, in <module>',
               "    init()", '  File "/usr/local/lib/python3.11/site-packages/fancylib/core.py", line 84, in init',
               "    _ctx = _native.create_context()", error])
    return _steps(got)


def test_an_invalid_argument_errno_inside_a_library_keeps_the_library_step():
    assert "raised inside the library `fancylib`" in _lib_error("OSError: [Errno 22] Invalid argument")


def test_a_permission_errno_inside_a_library_is_no_library_fault():
    assert "raised inside the library" not in _lib_error("PermissionError: [Errno 13] Permission denied: '/data/x'")
    assert "raised inside the library" not in _lib_error("OSError: [Errno 28] No space left on device")


# -- 6. a chain of direct causes is followed to its deepest error -----------------------------------------------

_CHAIN = ["Traceback (most recent call last):",
          '  File "/usr/local/lib/python3.12/logging/__init__.py", line 1248, in _open',
          "    return open_func(self.baseFilename, self.mode)",
          "OSError: [Errno 30] Read-only file system: '/app/log/app.log'", "",
          "The above exception was the direct cause of the following exception:", "",
          "Traceback (most recent call last):",
          '  File "/usr/local/lib/python3.12/logging/config.py", line 604, in configure',
          "    handler = self.configure_handler(handlers[name])",
          "ValueError: Unable to configure handler 'file'", "",
          "The above exception was the direct cause of the following exception:", "",
          "Traceback (most recent call last):", '  File "/app/main.py", line 5, in <module>',
          "    logging.config.dictConfig(LOGGING)", "RuntimeError: could not set up logging"]


def test_a_three_link_chain_names_the_deepest_error_as_the_root_cause():
    steps = _steps(run(_CHAIN))
    assert "wraps its root cause: `OSError: [Errno 30] Read-only file system" in steps
    assert "wraps its root cause: `ValueError" not in steps


def test_a_two_link_chain_keeps_its_one_cause():
    steps = _steps(run(_CHAIN[7:]))
    assert "wraps its root cause: `ValueError: Unable to configure handler 'file'`" in steps


# -- 7. an nginx upstream that is no container of an awsvpc task is another service -----------------------------

_UPSTREAM = 'nginx: [emerg] host not found in upstream "orders-api:8080" in /etc/nginx/conf.d/default.conf:7'


def _proxy(*names: str) -> str:
    return run({"proxy": [_UPSTREAM]},
               containers=[{"name": "proxy", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.25"},
                           *({"name": n, "exitCode": 143, "lastStatus": "STOPPED"} for n in names)]).remediation[0]


def test_an_upstream_that_is_no_container_of_the_task_is_reached_by_its_service_name_not_localhost():
    step = _proxy("app")
    assert "no container of this task" in step and "Service Connect or Cloud Map" in step
    assert "`127.0.0.1:8080`" not in step


def test_an_upstream_named_after_a_container_of_the_task_is_still_its_localhost_port():
    step = _proxy("orders-api")
    assert "`127.0.0.1:8080`" in step and "no container of this task" not in step


# -- 8. / 11. image pull: a digest that is not there; the tag filter only for a dotted version ---------------------


def _pull(image: str) -> str:
    got = run([], stopCode="TaskFailedToStart",
              stoppedReason=f"CannotPullContainerError: Error response from daemon: manifest for {image} not found: "
                            "manifest unknown: manifest unknown",
              containers=[{"name": "app", "lastStatus": "STOPPED", "image": image}])
    assert got.pattern == "image-pull-failed"
    return _steps(got)


def test_manifest_unknown_for_a_digest_is_a_missing_digest_not_a_missing_tag():
    steps = _pull("acme/api@sha256:" + "ab" * 32)
    assert "no manifest with the digest" in steps and "no such tag" not in steps


def test_manifest_unknown_for_a_tag_is_still_a_missing_tag():
    assert "no such tag" in _pull("acme/api:1.4.2")


def test_a_date_tag_lists_the_tags_without_a_name_filter():
    steps = _pull("acme/api:20240115")
    assert "tags?page_size=100'" in steps and "&name=" not in steps


def test_a_dotted_version_tag_lists_the_tags_of_its_major_minor():
    assert "tags?page_size=100&name=1.4'" in _pull("acme/api:1.4.2")


# -- 9. / 10. .NET: any newer major means roll-forward; an older patch of the same minor is a stale base image -----


def _dotnet(wanted: str, *found: str) -> str:
    got = run(["You must install or update .NET to run this application.", "", "App: /app/Api.dll",
               f"Framework: 'Microsoft.NETCore.App', version '{wanted}' (x64)", "",
               "The following frameworks were found:",
               *(f"  {v} at [/usr/share/dotnet/shared/Microsoft.NETCore.App]" for v in found)])
    assert got.pattern == "missing-dependency"
    return _steps(got)


def test_a_newer_major_anywhere_in_the_installed_list_is_the_roll_forward_reading():
    steps = _dotnet("7.0.0", "6.0.25", "8.0.1")
    assert "DOTNET_ROLL_FORWARD=Major" in steps and "TargetFramework net8.0" in steps


def test_only_older_majors_installed_keeps_the_older_runtime_reading():
    steps = _dotnet("9.0.0", "7.0.20")
    assert "DOTNET_ROLL_FORWARD" not in steps and "an older .NET runtime" in steps and "net7.0" in steps


def test_an_older_patch_of_the_same_runtime_refreshes_the_base_image_without_a_target_framework():
    steps = _dotnet("8.0.10", "8.0.4")
    assert "mcr.microsoft.com/dotnet/runtime:8.0" in steps and "docker build --pull" in steps
    assert "TargetFramework net" not in steps and "DOTNET_ROLL_FORWARD" not in steps


# -- a privileged port: the unprivileged example mirrors it ----------------------------------------------------


def _bind(port: int) -> str:
    got = run([f"nginx: [emerg] bind() to 0.0.0.0:{port} failed (13: Permission denied)"],
              containers=[{"name": "web", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.25"}])
    return _steps(got)


def test_a_refused_bind_on_443_suggests_8443_not_8080():
    steps = _bind(443)
    assert "e.g. 8443" in steps and "`listen 8443 ssl;`" in steps and "8080" not in steps


def test_a_refused_bind_on_80_keeps_8080():
    assert "e.g. 8080" in _bind(80) and "listens on 8080" in _bind(80)
