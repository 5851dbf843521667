"""Error families: a logged error whose wording names a well-known condition gets a step 1 that says what to
change; each family has a near miss that keeps the generic step. And the local reproduction whitelist."""

from __future__ import annotations

from shared import remediation as remedy
from tests.unit.helpers import run


def _app(exit_code: int, image: str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2") -> list[dict]:
    return [{"name": "app", "exitCode": exit_code, "lastStatus": "STOPPED", "image": image}]


def test_a_privileged_port_bound_as_non_root_moves_the_port():
    got = remedy.error_family("Error: listen EACCES: permission denied 0.0.0.0:443")
    assert got and "port 443" in got and "1024" in got
    # Near miss: a denied bind on a port above 1024 is not the privileged-port family.
    assert remedy.error_family("Error: listen EACCES: permission denied 0.0.0.0:8443") is None


def test_a_configuration_key_reported_missing_is_set():
    spring = remedy.error_family("Failed to configure a DataSource: 'url' attribute is not specified")
    assert spring and "SPRING_DATASOURCE_URL" in spring
    rails = remedy.error_family("ArgumentError: Missing `secret_key_base` for 'production' environment")
    assert rails and "SECRET_KEY_BASE" in rails
    other = remedy.error_family("config error: 'api_token' setting is not set")
    assert other and "`api_token`" in other
    # Near miss: a configuration error that names no key.
    assert remedy.error_family("config error: could not start") is None


def test_an_unknown_component_means_the_image_version_and_config_disagree():
    got = remedy.error_family('error decoding exporters: unknown type: "fancyexporter"', "otel/collector:latest")
    assert got and "pin the image" in got and "floats" in got
    # Near miss: an unknown HOST is a network problem, not a version mismatch.
    assert remedy.error_family("java.net.UnknownHostException: unknown host db.internal") is None


def test_a_path_owned_by_another_user_and_a_missing_path():
    owned = remedy.error_family('open /data/db/lock: permission denied')
    assert owned and "`/data/db/lock`" in owned and "posixUser" in owned
    gone = remedy.error_family("Error: ENOENT: no such file or directory, open '/app/config/settings.json'")
    assert gone and "`/app/config/settings.json`" in gone and "COPY" in gone
    # Near miss: no path named.
    assert remedy.error_family("Error: ENOENT: no such file or directory") is None


def test_step_one_of_a_crash_names_the_family_action_with_its_evidence():
    got = run(["Can't start server: listen tcp :80: bind: permission denied"], containers=_app(1))
    assert got.pattern == "app-crash"
    assert "port 80" in got.remediation[0] and "(Why:" in got.remediation[0]
    # Near miss: a crash whose wording is in no family keeps the generic step.
    plain = run(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                 "RuntimeError: boom"], containers=_app(1))
    assert plain.remediation[0].startswith("Fix the error")


def test_a_local_reproduction_only_for_failures_intrinsic_to_the_image():
    # Near miss first: a missing key with nothing outside the image reproduces locally.
    own = run(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
               "KeyError: 'region'"], containers=_app(1))
    assert "docker run" in "\n".join(own.remediation)
    # A path refused on a mounted volume depends on the volume: no local run.
    vol = run(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
               "PermissionError: [Errno 1] Operation not permitted: '/mnt/efs/data'"], containers=_app(1))
    assert vol.pattern == "app-crash" and "docker run" not in "\n".join(vol.remediation)
    # A crash in the app's own words after the log shows it using a mounted volume: no local run.
    net = run(["loading state from /mnt/shared/state",
               "Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
               "RuntimeError: upstream gave up"], containers=_app(1))
    assert net.pattern == "app-crash" and "docker run" not in "\n".join(net.remediation)


def test_a_source_location_or_a_host_path_is_not_a_file_to_add_to_the_image():
    # Near miss: the path is a source location in a panic message, not a file the app opened.
    assert remedy.error_family("failed to spawn thread: Operation not permitted', /rustc/abc/library/std/src/thread/mod.rs:683:29") is None
    host = remedy.error_family("failed to initialize NodeCapacity: lstat /rootfs/proc: no such file or directory")
    assert host and "HOST" in host and "COPY" not in host


def test_a_configuration_file_refused_at_start_up_is_checked_with_what_it_includes():
    got = remedy.error_family("[error] Configuration file contains errors. Aborting")
    assert got and "includes" in got and "--dry-run" in got
    # Near miss: a config file merely loaded is no error.
    assert remedy.error_family("[info] loaded configuration file /fluent-bit/etc/fluent-bit.conf") is None


def test_a_log_router_crash_gets_no_local_run_even_when_the_task_definition_was_not_read():
    lines = ["Fluent Bit v1.9.10", "[error] Configuration file contains errors. Aborting"]
    router = [{"name": "log_router", "exitCode": 1, "lastStatus": "STOPPED",
               "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/custom-fluent-bit:2.1"}]
    got = run(lines, containers=router)
    assert got.pattern == "app-crash" and "docker run" not in "\n".join(got.remediation)
    # Near miss: the same error from an ordinary app container keeps the local reproduction.
    app = run(lines, containers=_app(1))
    assert app.pattern == "app-crash" and "docker run" in "\n".join(app.remediation)


def test_no_region_found_sets_the_region_and_an_unknown_configuration_property_is_a_version_mismatch():
    got = remedy.error_family("[Error] Unable to fetch region from EC2 metadata: EC2MetadataRequestError")
    assert got and "AWS_REGION" in got
    # Near miss: a region named in an ordinary message is not a missing region.
    assert remedy.error_family("connected to region us-east-1") is None
    prop = remedy.error_family("[error] [config] record_modifier: unknown configuration property 'Reserve_Data'")
    assert prop and "pin the image" in prop
    # Near miss: an unknown user is no configuration property.
    assert remedy.error_family("login failed: unknown user 'bob'") is None


def test_a_cli_usage_error_checks_entrypoint_against_command():
    got = remedy.error_family("Error: Got unexpected extra arguments (worker run --queue default)")
    assert got and "entryPoint" in got and "ENTRYPOINT" in got
    argparse = remedy.error_family("main.py: error: unrecognized arguments: --port 8080")
    assert argparse and "entryPoint" in argparse
    # Near miss: an argument-like word in an app's own error is not a usage error of the command line.
    assert remedy.error_family("ValueError: unexpected argument count in query template") is None


def test_a_configuration_that_does_not_parse_at_a_line_points_at_that_line():
    line = "Error: failed to get config: contents are not valid YAML: yaml: line 9: mapping values are not allowed"
    got = remedy.error_family(line, "public.ecr.aws/aws-observability/aws-otel-collector:v0.44.0")
    assert got and "line 9" in got and "AOT_CONFIG_CONTENT" in got
    other = remedy.error_family("YAMLException: bad indentation of a mapping entry at line 4, column 3")
    assert other and "line 4" in other and "AOT_CONFIG_CONTENT" not in other
    # Near miss: a JSON decoder's error is as often an HTTP answer or an empty file: no config-line family.
    assert remedy.error_family("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)") is None


def test_a_plugin_that_fails_to_initialise_points_at_the_version_change():
    got = remedy.error_family("java.lang.RuntimeException: Failed to configure discovery strategies", "acme/hz:latest")
    assert got and "pin the previous version" in got and "floats" in got
    pinned = remedy.error_family("Failed to load plugins", "acme/app:2.3.1")
    assert pinned and "floats" not in pinned
    # Near miss: a failure to configure something that is not a loaded part stays outside the family.
    assert remedy.error_family("Failed to configure a DataSource because the pool closed") is None


def test_cannot_access_a_path_that_does_not_exist_is_a_missing_path():
    # "cannot access X: ... no such file or directory" (ls, stat, agents): X is missing, not refused.
    got = remedy.error_family("Cannot access /etc/agent.d: lstat /etc/agent.d: no such file or directory")
    assert got and "is not there when the container starts" in got and "may not use" not in got
    # Near miss: the same wording refused is the ownership family.
    denied = remedy.error_family("cannot access '/data/cache': Permission denied")
    assert denied and "may not use `/data/cache`" in denied


def test_iis_service_monitor_failures_name_what_its_code_means():
    appcmd = remedy.error_family("APPCMD failed with error code 259")
    assert appcmd and "ServiceMonitor" in appcmd and "cpu" in appcmd and "environment variables" in appcmd
    missing_pool = remedy.error_family("APPCMD failed with error code 4312")
    assert missing_pool and "DefaultAppPool" in missing_pool
    timeout = remedy.error_family("ERROR: Failed to stop or query status of service 'w3svc' error [800705b4]")
    assert timeout and "timeout" in timeout and "web.config" in timeout and "exits 0" in timeout
    other = remedy.error_family("ERROR: Failed to start or query status of service 'w3svc' error [80070005]")
    assert other and "80070005" in other and "timeout" not in other
    # Near misses: the bare headline names no code, and another program's service error is not ServiceMonitor's.
    assert remedy.error_family("Failed to update IIS configuration") is None
    assert remedy.error_family("Failed to stop service nginx: timeout") is None


def test_a_windows_iis_crash_gets_the_service_monitor_step_from_a_neighbouring_line():
    lines = ["Service 'w3svc' has been stopped", "APPCMD failed with error code 259", "Failed to update IIS configuration"]
    got = run(lines, containers=_app(2147500037, "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2019"))
    assert got.pattern == "app-crash"
    assert "ServiceMonitor" in got.remediation[0] and "error code 259" in got.remediation[0]
    assert not got.remediation[0].startswith("Fix the error")


def _agent_and_app(agent_image: str, exit_code: int = 1) -> list[dict]:
    return [{"name": "collector", "exitCode": exit_code, "lastStatus": "STOPPED", "image": agent_image},
            {"name": "app", "exitCode": 143, "lastStatus": "STOPPED",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"}]


def test_a_well_known_agent_failing_on_its_own_points_at_its_config_and_version():
    line = ["Error: failed to get config: invalid configuration: no pipelines configured"]
    floating = run(line, containers=_agent_and_app("public.ecr.aws/aws-observability/aws-otel-collector:latest"))
    assert floating.pattern == "app-crash"
    step = floating.remediation[0]
    assert "well-known agent" in step and "pin a version tag" in step and "floats" in step and "essential" in step
    pinned = run(line, containers=_agent_and_app("public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"))
    assert "floats" not in pinned.remediation[0] and "last version that ran" in pinned.remediation[0]
    # Near miss: the same words from the app's own image keep the generic step.
    own = run(line, containers=_app(1))
    assert own.remediation[0].startswith("Fix the error")
    assert remedy.floating_tag("datadog/agent:7") and not remedy.floating_tag("datadog/agent:7.50.3")


def test_a_config_file_error_in_an_image_this_account_builds_checks_its_copy_steps():
    lines = ["\x5b1m\x5b91mError \x5b0m: Configuration file contain errors. Aborting"]
    got = run(lines, containers=_agent_and_app("111122223333.dkr.ecr.us-east-1.amazonaws.com/custom-log-router:3"))
    assert "Dockerfile COPYs" in got.remediation[0]
    assert "[91m" not in got.remediation[0].split("(Why:")[0] and "[0m" not in got.title
    # Near miss: a published log router image has no Dockerfile of the team's to check.
    pub = run(lines, containers=_agent_and_app("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"))
    assert "Dockerfile COPYs" not in pub.remediation[0] and "floats" in pub.remediation[0]


def test_a_required_cli_argument_missing_is_passed_in_the_command():
    got = remedy.error_family("usage: job.py [-h] region\njob.py: error: the following arguments are required: region")
    assert got and "`region`" in got and "`command`" in got
    click = remedy.error_family("Error: Missing argument 'SOURCE'.")
    assert click and "`SOURCE`" in click
    # Near miss: an argument the parser does not know is the usage family, not a missing argument.
    other = remedy.error_family("job.py: error: unrecognized arguments: --fast")
    assert other and "required argument" not in other


def test_a_run_with_no_required_setting_passes_it():
    got = remedy.error_family("Error: no host specified")
    assert got and "no host" in got and "`environment`" in got
    # Near miss: "no" inside other wording names no missing setting.
    assert remedy.error_family("Error: host is not reachable, no route") is None


def test_an_interpreter_handed_a_shell_as_its_script_overrides_the_entrypoint():
    got = remedy.error_family("python3: can't open file 'sh': [Errno 2] No such file or directory")
    assert got and "ENTRYPOINT" in got and "`entryPoint`" in got
    # Near miss: a real script missing from the image is a missing file, not an entrypoint mix-up.
    miss = remedy.error_family("python3: can't open file '/app/run.py': [Errno 2] No such file or directory")
    assert miss is None or "ENTRYPOINT" not in miss


def test_initdb_on_a_non_empty_volume_uses_a_subdirectory():
    got = remedy.error_family('initdb: error: directory "/pg/data" exists but is not empty')
    assert got and "PGDATA" in got and "/pg/data/pgdata" in got
    # Near miss: an empty-directory notice is not the family.
    assert remedy.error_family('fixing permissions on existing directory /pg/data ... ok') is None


def test_a_key_missing_in_an_agents_json_config_is_named():
    got = remedy.error_family('pipeline "x": missing key in JSON: "metrics::destinations::amp::workspace_id"')
    assert got and "metrics::destinations::amp::workspace_id" in got
    # Near miss: a JSON error that names no key.
    assert remedy.error_family("invalid JSON: unexpected end of input") is None
