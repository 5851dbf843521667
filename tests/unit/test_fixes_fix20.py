"""Review 20: rules that read too much into a line (a warning that carries on, a size limit on data, a flag after
a secret flag, a namespace package, a generic host label, a signal-handler note, a token inside a longer word).
Each test has the case that was wrong and the near miss that must keep today's behaviour."""

from __future__ import annotations

from shared import remediation as remedy
from tests.unit.helpers import run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _app(code: int = 1, image: str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2",
         name: str = "app") -> list[dict]:
    return [{"name": name, "exitCode": code, "lastStatus": "STOPPED", "image": image}]


# --- 1. A warning that goes on with defaults is not a missing setting ---------------------------------------------

def test_a_warning_that_goes_on_with_defaults_is_not_a_missing_setting():
    logs = ["7:C 01 May 2024 10:00:00.000 # Warning: no configuration file given, using the default settings",
            "7:M 01 May 2024 10:00:00.100 * Server initialized",
            "7:M 01 May 2024 10:00:00.200 # Fatal error loading the DB: Invalid argument. Exiting."]
    got = run(logs, containers=_app(1, "redis:7.2"))
    assert got.pattern == "app-crash"
    assert "no configuration" not in got.remediation[0] and "cannot run without" not in _fix(got), got.remediation[0]
    for carry_on in ("no host specified, defaulting to localhost", "no endpoint configured; falling back to us-east-1"):
        assert remedy.error_family(f"WARN {carry_on}") is None, carry_on
    # Near miss: the same words without a fallback still name the missing setting.
    said = remedy.error_family("FATAL: no configuration file given") or ""
    assert "no configuration file to work on" in said, said


# --- 2. A size limit on data is not a setting's length limit -------------------------------------------------------

def test_a_request_body_over_a_size_limit_is_not_a_setting_too_long():
    assert remedy.error_family("ERROR rejected: request body exceeds the maximum length of 1048576") is None
    assert remedy.error_family("payload exceeds the maximum length of 4096") is None
    # Near miss: a named setting over its limit is still the family, without the host-name note for a plain value.
    said = remedy.error_family("config error: setting cluster_label exceeds the maximum length of 32") or ""
    assert "`cluster_label`" in said and "at most 32" in said and "host name" not in said, said


def test_the_host_name_note_needs_a_value_that_is_a_host_name():
    tmpl = "'{}' is an invalid value for parameter node-id. Values must have a maximum length of 23 bytes"
    fargate = remedy.error_family(tmpl.format("0123456789abcdef0123456789abcdef-1234567890")) or ""
    assert "at most 23" in fargate and "host name" in fargate, fargate
    ec2 = remedy.error_family(tmpl.format("ip-10-0-12-34.ec2.internal")) or ""
    assert "host name" in ec2, ec2
    plain = remedy.error_family(tmpl.format("orders-transaction-manager-node")) or ""
    assert "at most 23" in plain and "host name" not in plain, plain


# --- 3. In an exec-form array, a flag after a secret flag is not its value -----------------------------------------

def test_a_flag_after_a_secret_flag_in_an_array_is_not_masked():
    from shared.redact import redact
    said = redact('"command":["pg_dump","--no-password","-U","reporter","-d","sales"]')
    assert '"--no-password","-U","reporter"' in said, said
    spaced = redact('["mysql", "--skip-password", "--host", "db"]')
    assert '"--skip-password", "--host"' in spaced, spaced
    # Near miss: a value after the flag is still masked, in the array and in the shell form.
    assert "s3cr3tValue" not in redact('["migrate","--db-password","s3cr3tValue","--verbose"]')
    assert "s3cr3tValue" not in redact("migrate --db-password s3cr3tValue --verbose")
    assert "-h" in redact("psql --no-password -h db")


# --- 4. A part of a namespace package is a distribution of its own, never the root to pin ----------------------

_SITE = "/usr/local/lib/python3.12/site-packages"


def _py_missing(module: str, through: str) -> list[str]:
    return ["Traceback (most recent call last):",
            f'  File "{_SITE}/{through}/__init__.py", line 8, in <module>',
            f"ModuleNotFoundError: No module named '{module}'"]


def test_a_namespace_part_with_a_pypi_name_of_its_own_is_that_package():
    got = run(_py_missing("google.protobuf", "google/api_core"), containers=_app(1))
    assert got.pattern == "missing-dependency"
    step = got.remediation[0]
    assert "`protobuf`" in step and "namespace" in step and "pin the `google` version" not in step, step
    # A deeper submodule of the mapped part is a version of that part to pin, never of the namespace root.
    deep = run(_py_missing("google.protobuf.pyext", "google/protobuf"), containers=_app(1))
    assert "pin the `protobuf` version" in deep.remediation[0] and "`google` version" not in deep.remediation[0]


def test_a_namespace_part_without_a_known_name_is_not_a_root_to_pin():
    got = run(_py_missing("azure.storage.queue", "azure/core"), containers=_app(1))
    step = got.remediation[0]
    assert "distribution that provides `azure.storage.queue`" in step and "`azure` version" not in step, step
    assert "import azure.storage.queue" in _fix(got)
    # Near miss: a submodule of an ordinary installed package is still a version of that package to pin.
    plain = run(_py_missing("pydantic.v1.fields", "pydantic"), containers=_app(1))
    assert "`pydantic` is installed" in plain.remediation[0] and "pin the `pydantic` version" in plain.remediation[0]


# --- 5. Sonames whose Debian package is not named after them come from a table, never a guess ---------------------

def _no_lib(soname: str) -> list[str]:
    return [f"/opt/tool/bin/render: error while loading shared libraries: {soname}: cannot open shared object file: "
            "No such file or directory"]


def test_well_known_sonames_name_their_real_debian_package():
    from shared.patterns.missing_dependency import _debian_package
    assert _debian_package("libz.so.1") == "zlib1g" and _debian_package("libGLU.so.1") == "libglu1-mesa"
    assert _debian_package("libicui18n.so.72") == "libicu72"
    assert _debian_package("libcrypto.so.10") is None and _debian_package("libcudart.so.11.0") is None
    got = run(_no_lib("libz.so.1"), containers=_app(127))
    step = got.remediation[0]
    assert "install -y --no-install-recommends zlib1g" in step and "libz1" not in step, step
    assert "after its soname" not in step and "apt-file search libz.so.1" in step
    # Near miss: an ordinary soname still gets the soname rule's usual name.
    plain = run(_no_lib("libpq.so.5"), containers=_app(127)).remediation[0]
    assert "usually `libpq5`" in plain and "apt-file search libpq.so.5" in plain, plain


def test_a_missing_glibc_library_means_the_image_is_not_glibc_based():
    for soname in ("libdl.so.2", "libpthread.so.0", "libm.so.6", "librt.so.1"):
        step = run(_no_lib(soname), containers=_app(127)).remediation[0]
        assert "glibc" in step and "Alpine" in step and "distroless" in step, step
        assert "apt-get install" not in step and soname.split(".so")[0] + soname.split(".so.")[1] not in step, step
    # Near miss: libcrypt is its own package (libcrypt1), not glibc's core.
    crypt = run(_no_lib("libcrypt.so.1"), containers=_app(127)).remediation[0]
    assert "libcrypt1" in crypt and "glibc-based image" not in crypt, crypt


# --- 6. A generic first host label (api, runtime) names no service: the next label does ----------------------------

def _php_denied(op: str, host: str) -> list[str]:
    return [f'PHP Fatal error:  Uncaught Aws\\Exception\\AwsException: Error executing "{op}" on "https://{host}/"; '
            f"AWS HTTP error: Client error: `POST https://{host}/` resulted in a `403 Forbidden` response: "
            "AccessDeniedException (client): User is not allowed"]


def test_a_generic_first_host_label_is_read_past_to_the_service():
    from shared.patterns.iam_access_denied import _sdk_op_action
    cases = {("DescribeServices", "api.pricing.eu-central-1.amazonaws.com"): "pricing:DescribeServices",
             ("ListModelPackages", "api.sagemaker.eu-central-1.amazonaws.com"): "sagemaker:ListModelPackages",
             ("InvokeEndpoint", "runtime.sagemaker.eu-central-1.amazonaws.com"): "sagemaker:InvokeEndpoint",
             ("PostContent", "runtime.lex.eu-central-1.amazonaws.com"): "lex:PostContent",
             ("BatchGetImage", "api.ecr.eu-central-1.amazonaws.com"): "ecr:BatchGetImage"}
    for (op, host), action in cases.items():
        assert _sdk_op_action(_php_denied(op, host)[0]) == action, (host, _sdk_op_action(_php_denied(op, host)[0]))
    # Unsure (the next label is no known service): no action is invented.
    assert _sdk_op_action(_php_denied("DoThing", "api.widgets.eu-central-1.amazonaws.com")[0]) is None
    got = run(_php_denied("DescribeServices", "api.pricing.eu-central-1.amazonaws.com"), containers=_app(255))
    assert got.facts["action"] == "pricing:DescribeServices" and '"Resource": "*"' in _fix(got), _fix(got)


def test_a_service_first_host_label_is_still_the_service():
    from shared.patterns.iam_access_denied import _sdk_op_action
    assert _sdk_op_action(_php_denied("ListQueues", "sqs.eu-central-1.amazonaws.com")[0]) == "sqs:ListQueues"
    assert _sdk_op_action(_php_denied("SendEmail", "email.eu-central-1.amazonaws.com")[0]) == "ses:SendEmail"
    assert _sdk_op_action(_php_denied("PutObject", "reports.s3.eu-central-1.amazonaws.com")[0]) == "s3:PutObject"


# --- 7/8. Credentials-provider failures: instance metadata is a fallback; Fargate has no agent of yours ------------

_IMDS_FALLBACK = ("botocore.exceptions.CredentialRetrievalError: Error when retrieving credentials from iam-role: "
                  "Credential refresh failed, response did not contain: access_key, secret_key, token, expiry_time")
_TASK_ENDPOINT = ("Error when retrieving credentials from container-role: Error retrieving metadata: Received error "
                  "when attempting to retrieve ECS metadata: Read timeout on endpoint URL: "
                  "\"http://169.254.170.2/v2/credentials/00000000-1111-2222-3333-444444444444\"")
_ON_EC2 = {"launchType": "EC2", "attachments": [],
           "containerInstanceArn": "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/0a1b2c3d"}


def test_an_instance_metadata_failure_is_the_missing_task_role_not_broken_metadata():
    for detail in ({}, _ON_EC2):  # Fargate, then EC2
        got = run([_IMDS_FALLBACK], containers=_app(255), **detail)
        assert got.facts.get("cause") == "credentials-endpoint" and got.facts.get("role_kind") == "instance role"
        said = _fix(got)
        assert "taskRoleArn" in said and "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" in said, said
        assert "ecs-agent.log" not in said and "which failed" not in said, said
    fargate = _fix(run([_IMDS_FALLBACK], containers=_app(255)))
    assert "Fargate has no instance role" in fargate
    ec2 = _fix(run([_IMDS_FALLBACK], containers=_app(255), **_ON_EC2))
    assert "on purpose" in ec2 and "Fargate" not in ec2


def test_a_failing_task_credentials_endpoint_on_fargate_is_rerun_and_proxy_checked():
    got = run([_TASK_ENDPOINT], containers=_app(255))
    said = _fix(got)
    assert "run-task" in said or "update-service" in said, said
    assert "NO_PROXY" in said and "169.254.170.2" in said and "ecs-agent.log" not in said, said
    # Near miss: on EC2 the container instance's agent serves the endpoint, so it is the step.
    ec2 = _fix(run([_TASK_ENDPOINT], containers=_app(255), **_ON_EC2))
    assert "ecs-agent.log" in ec2 and "NO_PROXY" not in ec2, ec2


# --- 9. Windows on Fargate has no pre-1.4.0 platform: 1.0.0 is its current one ----------------------------------

_NO_SPACE_WIN = ["Unhandled exception. System.IO.IOException: There is not enough space on the disk. : "
                 "'C:\\data\\tmp\\chunk-0042.tmp'"]


def test_a_windows_fargate_task_on_platform_1_0_0_is_not_told_to_move_to_1_4_0():
    got = run(_NO_SPACE_WIN, containers=_app(1), platformVersion="1.0.0", platformFamily="WINDOWS_SERVER_2022_CORE")
    assert got.pattern == "disk-full"
    step = got.remediation[0]
    assert "ephemeralStorage" in step and "1.4.0" not in step and "10 GB" not in step, step
    # Near miss: a Linux task on platform 1.3.0 still gets the old-platform step.
    linux = run(["OSError: [Errno 28] No space left on device: '/tmp/chunk-0042.tmp'"], containers=_app(1),
                platformVersion="1.3.0")
    assert linux.pattern == "disk-full" and "1.4.0" in linux.remediation[0] and "10 GB" in linux.remediation[0]


# --- 10. A note about installed signal handlers is not a fault report -----------------------------------------------

def test_a_signal_handler_note_is_not_the_fault_that_ended_the_process():
    logs = ["renderer 2.0 starting", "signal guard: registered handlers for SIGSEGV/SIGFPE",
            "opening /data/scene.bin", "renderer: src/mesh.c:88: build_mesh: Assertion `count > 0' failed."]
    got = run(logs, containers=_app(134))
    assert got.pattern == "app-crash"
    assert "Assertion" in got.title and "handlers" not in got.title, got.title
    assert "the fault signal is the cause" not in _fix(got)
    from shared.patterns.app_crash import _fault_report
    assert not _fault_report("crash handler installed for SIGBUS, SIGILL")
    # Near miss: a line reporting the fault is still the fault, even from a handler.
    assert _fault_report("crash handler: caught signal SIGSEGV (11), writing minidump")
    fault = run(["renderer 2.0 starting", "Fatal signal 11 (SIGSEGV), code 1, fault addr 0x0 in tid 7"],
                containers=_app(134))
    assert "SIGSEGV" in fault.title and "the fault signal is the cause" in _fix(fault), (fault.title, _fix(fault))


# --- 11. A database client's name inside a longer word is not that client ---------------------------------------

def test_a_client_token_inside_a_longer_word_does_not_make_a_web_call_a_database_call():
    from shared.patterns.base import looks_like_database
    for word in ("billing-collector", "event vector", "ingest-selector", "SpgxWorker", "shikari-sync"):
        line = f"ERROR [{word}] request to https://api.vendor.example/v2/items failed, reason: connect ETIMEDOUT 1.2.3.4:443"
        assert not looks_like_database(line, "api.vendor.example", 443, line), word
    got = run(["INFO starting", "ERROR [orders-connector] FetchError: request to https://api.vendor.example/v2/items "
               "failed, reason: connect ETIMEDOUT 203.0.113.9:443", "FATAL aborted"], containers=_app(1))
    assert got.pattern == "network-egress-blocked", got.pattern
    # Near miss: the client named as a word (or as the start of a longer name) still makes it a database call.
    for line in ("** (DBConnection.ConnectionError) Ecto.Adapters.Postgres: connect to db.example:443 timed out",
                 "com.zaxxer.hikari.pool.HikariPool - HikariPool-1 - connect to db.example:443 timed out",
                 "pgxpool: failed to connect to db.example:443: timeout"):
        assert looks_like_database(line, "db.example", 443, line), line


# --- 12. The local reproduction runs the command override the task ran with -------------------------------------

_CLAP = ["error: the following required arguments were not provided:", "  --region-code <REGION_CODE>",
         "  <SINCE>", "", "Usage: importer sync --region-code <REGION_CODE> <SINCE>", "",
         "For more information, try '--help'."]


def test_the_local_reproduction_uses_the_tasks_command_override():
    override = {"containerOverrides": [{"name": "app", "command": ["importer", "sync", "it's $HOME; rm -rf /"]}]}
    got = run(_CLAP, containers=_app(2), overrides=override)
    said = _fix(got)
    assert "cmd=( importer sync 'it'\"'\"'s $HOME; rm -rf /' )" in said, said
    assert "| command ||" not in said
    # Redaction still applies to the override, and leaves the array closed.
    secret = {"containerOverrides": [{"name": "app", "command": ["importer", "--api-token", "tok3nValue9"]}]}
    masked = _fix(run(_CLAP, containers=_app(2), overrides=secret))
    assert "tok3nValue9" not in masked and "--api-token [REDACTED] )" in masked, masked
    # Near miss: an override for another container (or none) still reads the task definition's command.
    other = _fix(run(_CLAP, containers=_app(2), overrides={"containerOverrides": [{"name": "sidecar",
                                                                                "command": ["x"]}]}))
    assert "| command ||" in other and "cmd=(" not in other, other


# --- 13. clap names its missing arguments on the lines after its error ---------------------------------------------

def test_claps_missing_arguments_are_taken_from_the_lines_after_the_error():
    step = run(_CLAP, containers=_app(2)).remediation[0]
    assert "required arguments `--region-code <REGION_CODE>`, `<SINCE>`" in step, step
    assert "argument the required arguments" not in step
    # Alone (no list after it) the step does not invent a name.
    bare = remedy.error_family("error: the following required arguments were not provided:") or ""
    assert "one or more of its required arguments" in bare and "``" not in bare, bare
    # Near miss: argparse names the argument on the error line itself.
    said = remedy.error_family("prog: error: the following arguments are required: --bucket") or ""
    assert "required argument `--bucket`" in said, said


# --- s6: the summary agrees with step 1 that the entrypoint ran ----------------------------------------------------

def test_an_s6_service_exec_failure_summary_says_the_entrypoint_ran():
    cont = [{"name": "agent", "exitCode": 111, "lastStatus": "STOPPED", "image": "acme/shipper:3"}]
    got = run(["[services.d] starting services", "s6-supervise: fatal: unable to exec shipperd: No such file or directory"],
              containers=cont)
    assert got.pattern == "container-start-failed"
    assert "entrypoint of agent ran" in got.summary and "was not found" not in got.summary, got.summary
    # Near miss: the runtime not finding the entrypoint keeps the not-found summary.
    plain = run([], stopCode="TaskFailedToStart", containers=[{"name": "agent", "lastStatus": "STOPPED",
                                                               "image": "acme/shipper:3"}],
                stoppedReason='CannotStartContainerError: exec: "shipperd": executable file not found in $PATH')
    assert "entrypoint or command was not found" in plain.summary, plain.summary
