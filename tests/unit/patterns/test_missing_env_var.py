"""missing-env-var: real start-up failures for an absent variable, and the look-alikes that are not."""

from __future__ import annotations

import pytest

from shared.patterns.missing_env_var import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, elb_failed, exited

ID = "missing-env-var"

PY_ENVIRON = [
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 3, in <module>',
    '    DB = os.environ["DATABASE_URL"]',
    '  File "/usr/local/lib/python3.12/os.py", line 685, in __getitem__',
    "    raise KeyError(key) from None",
    "KeyError: 'DATABASE_URL'",
]

POSITIVES = [
    pytest.param(["** (RuntimeError) SECRET_KEY_BASE configuration option is required. See https://example.org/docs",
                  "    config/runtime.exs:35: (file)"], exited(1), {"variable": "SECRET_KEY_BASE"},
                 id="elixir-runtime-config-option-required"),
    pytest.param(["panic: CONSUL_CLIENT_PORT key is not set", "", "goroutine 1 [running]:"], exited(2),
                 {"variable": "CONSUL_CLIENT_PORT"}, id="go-config-key-is-not-set"),
    pytest.param(PY_ENVIRON, {}, {"variable": "DATABASE_URL", "container": "app"}, id="python-os-environ"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/bot.py", line 5, in <module>',
                  '    token = os.environ["slack_token"]',
                  '  File "/usr/local/lib/python3.12/os.py", line 685, in __getitem__',
                  "    raise KeyError(key) from None", "KeyError: 'slack_token'"],
                 {}, {"variable": "slack_token"}, id="python-lowercase-key-through-environ"),
    pytest.param(["/app/config/initializers/stripe.rb:1:in `fetch': key not found: \"STRIPE_API_KEY\" (KeyError)",
                  "\tfrom /app/config/initializers/stripe.rb:1:in `<main>'"],
                 {}, {"variable": "STRIPE_API_KEY"}, id="ruby-env-fetch"),
    pytest.param(["Error: Environment variable MONGO_URI is not set",
                  "    at Object.<anonymous> (/usr/src/app/config.js:5:9)"],
                 {}, {"variable": "MONGO_URI"}, id="node-english"),
    pytest.param(["Error: Missing required environment variable: JWT_SECRET",
                  "    at requireEnv (/app/dist/env.js:8:11)"],
                 {}, {"variable": "JWT_SECRET"}, id="node-missing-required"),
    pytest.param(["/app/server.js:3", "  throw new Error('STRIPE_SECRET_KEY env var is required');", "  ^", "",
                  "Error: STRIPE_SECRET_KEY env var is required",
                  "    at Object.<anonymous> (/app/server.js:3:9)"],
                 {}, {"variable": "STRIPE_SECRET_KEY"}, id="node-name-before-env-var"),
    pytest.param(["panic: envconfig.Process: required key DATABASE_URL missing value", "", "goroutine 1 [running]:",
                  "main.main()", "\t/src/main.go:20 +0x1c5"],
                 exited(2), {"variable": "DATABASE_URL"}, id="go-envconfig-panic"),
    pytest.param(["2024/05/01 10:00:00 required key PORT missing value"], {}, {"variable": "PORT"}, id="go-envconfig-log"),
    pytest.param(["/docker-entrypoint.sh: line 12: DB_HOST: unbound variable"], {}, {"variable": "DB_HOST"},
                 id="bash-set-u"),
    pytest.param(["/entrypoint.sh: 4: REDIS_URL: parameter not set"], {}, {"variable": "REDIS_URL"}, id="dash-param"),
    pytest.param(["org.springframework.beans.factory.BeanCreationException: Error creating bean with name "
                  "'dataSource': Injection of autowired dependencies failed",
                  "Caused by: java.lang.IllegalArgumentException: Could not resolve placeholder 'DB_PASSWORD' in "
                  "value \"${DB_PASSWORD}\""],
                 {}, {"variable": "DB_PASSWORD"}, id="spring-placeholder"),
    pytest.param(["Exception in thread \"main\" java.lang.IllegalStateException: Required environment variable "
                  "'KAFKA_BROKERS' is missing", "\tat com.acme.Config.require(Config.java:22)"],
                 {}, {"variable": "KAFKA_BROKERS"}, id="java-english"),
    pytest.param(["Unhandled exception. System.InvalidOperationException: Environment variable "
                  "'ConnectionStrings__Default' is not set."],
                 {}, {"variable": "ConnectionStrings__Default"}, id="dotnet-quoted-mixed-case-name-with-Default"),
    pytest.param(["PHP Fatal error:  Uncaught RuntimeException: Environment variable not found: \"DATABASE_URL\". in "
                  "/var/www/vendor/symfony/dependency-injection/EnvVarProcessor.php:171"],
                 exited(255), {"variable": "DATABASE_URL"}, id="symfony-env-var-not-found"),
    pytest.param(["thread 'main' panicked at src/main.rs:10:45:", "DATABASE_URL must be set: NotPresent"],
                 exited(101), {"variable": "DATABASE_URL"}, id="rust-expect"),
    pytest.param(["** (RuntimeError) environment variable DATABASE_URL is missing.",
                  "For example: ecto://USER:PASS@HOST/DATABASE"],
                 {}, {"variable": "DATABASE_URL"}, id="elixir-runtime-exs"),
    pytest.param(["pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings", "database_url",
                  "  Field required [type=missing, input_value={}, input_type=dict]",
                  "    For further information visit https://errors.pydantic.dev/2.6/v/missing"],
                 {}, {"variable": "database_url"}, id="pydantic-settings-v2"),
    pytest.param(["pydantic.error_wrappers.ValidationError: 2 validation errors for AppConfig", "api_key",
                  "  field required (type=value_error.missing)", "redis_url",
                  "  field required (type=value_error.missing)"],
                 {}, {"variables": ["api_key", "redis_url"]}, id="pydantic-settings-v1-two"),
    pytest.param(["❌ Invalid environment variables: { DATABASE_URL: [ 'Required' ], NEXTAUTH_SECRET: [ 'Required' ] }",
                  "Error: Invalid environment variables"],
                 {}, {"variables": ["DATABASE_URL", "NEXTAUTH_SECRET"]}, id="t3-zod"),
    pytest.param(["================================", " Missing environment variables:", "    API_TOKEN: undefined",
                  "    SENTRY_DSN: undefined", "================================"],
                 {}, {"variables": ["API_TOKEN", "SENTRY_DSN"]}, id="envalid"),
    pytest.param(["production.ERROR: No application encryption key has been specified. {\"exception\":\"[object] "
                  "(Illuminate\\\\Encryption\\\\MissingAppKeyException(code: 0)"],
                 {}, {"variable": "APP_KEY"}, id="laravel-app-key"),
    pytest.param(["/usr/local/bundle/gems/railties-7.0.4/lib/rails/application.rb:581:in `validate_secret_key_base': "
                  "Missing `secret_key_base` for 'production' environment, set this string with "
                  "`bin/rails credentials:edit` (ArgumentError)"],
                 {}, {"variable": "SECRET_KEY_BASE"}, id="rails-secret-key-base"),
    pytest.param(["django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty."],
                 {}, {"variable": "SECRET_KEY"}, id="django-secret-key"),
    pytest.param(["django.core.exceptions.ImproperlyConfigured: Set the DJANGO_SECRET_KEY environment variable"],
                 {}, {"variable": "DJANGO_SECRET_KEY"}, id="django-environ"),
    # The Datadog Agent image's cont-init check (01-check-apikey.sh): the agent is the culprit, the app a victim.
    pytest.param({"datadog-agent": ["[cont-init.d] 01-check-apikey.sh: executing... ", "",
                                    "=" * 40,
                                    "You must set an DD_API_KEY environment variable to run the Datadog Agent container",
                                    "=" * 40, "", "[cont-init.d] 01-check-apikey.sh: exited 1."]},
                 {"containers": [box(143, "worker"), box(1, "datadog-agent", image="public.ecr.aws/datadog/agent:7")]},
                 {"variable": "DD_API_KEY", "container": "datadog-agent"}, id="must-set-an-env-var-sidecar"),
    # Only what Kubernetes injects is the platform's: a KUBERNETES_-prefixed name the team sets is a variable.
    pytest.param(["Error: environment variable KUBERNETES_NAMESPACE is not set"], exited(1),
                 {"variable": "KUBERNETES_NAMESPACE"}, id="kubernetes-prefixed-name-the-team-sets"),
    pytest.param(["decouple.UndefinedValueError: SECRET_KEY not found. Declare it as envvar or define a default "
                  "value."], {}, {"variable": "SECRET_KEY"}, id="python-decouple-mentions-a-default"),
    pytest.param(['environs.EnvError: Environment variable "DATABASE_URL" not set'], {},
                 {"variable": "DATABASE_URL"}, id="python-environs"),
    pytest.param(['2024/05/01 10:00:00 FATAL: env var "S3_BUCKET" is empty'], {}, {"variable": "S3_BUCKET"},
                 id="go-log-fatal-empty"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/worker.py", line 4, in <module>',
                  "    sqs = boto3.client('sqs')", "botocore.exceptions.NoRegionError: You must specify a region."],
                 {}, {"variable": "AWS_REGION"}, id="botocore-no-region"),
    pytest.param(['{"level":"fatal","time":"2024-05-01T10:00:00Z","msg":"config: environment variable '
                  'QUEUE_URL is required"}'],
                 {}, {"variable": "QUEUE_URL"}, id="json-structured-fatal"),
    pytest.param(["2024-05-01T10:00:00.000000+00:00 ecs/app/0123456789abcdef0123456789abcdef " + line
                  for line in PY_ENVIRON],
                 {}, {"variable": "DATABASE_URL", "container": "app"}, id="aws-logs-tail-format"),
    pytest.param(["11:58:06.967 [error] CRASH REPORT Process <0.828.0> with 0 neighbours crashed with reason: no match "
                  "of right hand value {error,\"Missing DATABASE_URL.~n\"} in bh_sup:pool_opts/1 line 73"],
                 exited(1), {"variable": "DATABASE_URL"}, id="erlang-badmatch-missing-name"),
    pytest.param(["| @timestamp | @message |", "|---|---|",
                  "| 2025-06-03 14:20:22.100 | Missing required configuration: GITHUB_BOT_USERNAME |"],
                 exited(1), {"variable": "GITHUB_BOT_USERNAME"}, id="missing-required-configuration-insights-table"),
    pytest.param(["Error: missing config value: PORT"], exited(1), {"variable": "PORT"}, id="missing-config-value-noun"),
    pytest.param(['error: Uncaught (in promise) Error: SUPABASE_URL and SUPABASE_ANON_KEY are required.',
                  '  throw new Error("SUPABASE_URL and SUPABASE_ANON_KEY are required.");'], exited(1),
                 {"variables": ["SUPABASE_URL", "SUPABASE_ANON_KEY"]}, id="deno-two-names-are-required"),
    pytest.param(["Error: DB_HOST, DB_USER and DB_PASS must be set"], exited(1),
                 {"variables": ["DB_HOST", "DB_USER", "DB_PASS"]}, id="list-of-three-must-be-set"),
]

UNNAMED = [
    pytest.param(["thread 'main' panicked at crates/server/src/config.rs:45:45:",
                  "Error loading env config: environment variable not found",
                  "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"],
                 exited(101), id="rust-var-error-display"),
    pytest.param(["thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: NotPresent', "
                  "src/config.rs:12:50"], exited(101), id="rust-notpresent-debug"),
    pytest.param(["Error: environment variable is not set"], exited(1), id="english-without-a-name"),
]


@pytest.mark.parametrize(("logs", "detail"), UNNAMED)
def test_a_variable_the_log_does_not_name_is_still_this_pattern_with_no_name_guessed(logs, detail):
    finding = run(logs, **detail)
    assert_finding(finding, ID)
    assert "variable" not in finding.facts and "variables" not in finding.facts
    assert "does not name it" in finding.title
    assert any("RUST_BACKTRACE" in step or "find the one that is absent" in step for step in finding.remediation)


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_health_check_failure_caused_by_missing_variable_reports_the_symptom():
    finding = run(PY_ENVIRON, **elb_failed(143))
    assert_finding(finding, ID, {"variable": "DATABASE_URL"})
    assert finding.symptom == "health-check-failed"
    assert any(e.source == "stoppedReason" for e in finding.evidence)


def test_remediation_names_the_variable_and_routes_secrets_to_secrets_manager():
    finding = run(PY_ENVIRON)
    text = "\n".join(finding.remediation)
    assert '"name": "DATABASE_URL"' in text
    assert "secretsmanager" in text  # DATABASE_URL looks sensitive: a secret, not a plain variable
    assert "DATABASE_URL" in finding.title


NEGATIVES = [
    pytest.param(["Traceback (most recent call last):", '  File "/app/handler.py", line 12, in handle',
                  "    user = payload['user']", "KeyError: 'user'"],
                 {}, "app-crash", id="keyerror-on-lowercase-dict-key"),
    pytest.param(["Internal Server Error: /api/orders", "Traceback (most recent call last):",
                  '  File "/app/orders/views.py", line 30, in create', "    ip = request.META['HTTP_X_FORWARDED_FOR']",
                  "KeyError: 'HTTP_X_FORWARDED_FOR'"], {}, "app-crash", id="django-request-meta-header"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/etl.py", line 12, in <module>', "    df['SKU']",
                  '  File "/usr/local/lib/python3.12/site-packages/pandas/core/frame.py", line 4102, in __getitem__',
                  "    indexer = self.columns.get_loc(key)",
                  '  File "/usr/local/lib/python3.12/site-packages/pandas/core/indexes/base.py", line 3812, in get_loc',
                  "    raise KeyError(key) from err", "KeyError: 'SKU'"], {}, "app-crash", id="pandas-upper-case-column"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/main.py", line 8, in <module>',
                  "    region = config['AWS']['REGION']", "KeyError: 'REGION'"], {}, "app-crash",
                 id="upper-case-key-of-a-config-dict"),
    pytest.param(["WARNING: LOG_LEVEL is not set, using default 'info'", "Traceback (most recent call last):",
                  '  File "/app/main.py", line 9, in <module>', "    main()", "ZeroDivisionError: division by zero"],
                 {}, "app-crash", id="not-set-using-default-at-warn"),
    pytest.param(['{"level":"warn","msg":"REDIS_URL is not set, caching disabled"}',
                  '{"level":"error","msg":"unhandled exception","err":"TypeError: Cannot read properties of '
                  'undefined (reading \'id\')\\n    at /app/src/index.js:22:17"}'],
                 {}, "app-crash", id="json-warn-not-set"),
    pytest.param(["REDIS_URL is not set, using default redis://localhost:6379"], exited(143), "unknown",
                 id="default-fallback-only"),
    pytest.param(['{"level":"info","msg":"SENTRY_DSN environment variable is not set"}'], exited(143), "unknown",
                 id="info-level-notice"),
    pytest.param(["REDIS_URL and CACHE_TTL are not set, using defaults", "TypeError: cannot read properties of null"],
                 exited(1), "app-crash", id="several-unset-with-defaults"),
    pytest.param(["Missing CSRF_TOKEN header in request", "TypeError: cannot read properties of undefined"],
                 exited(1), "app-crash", id="missing-thing-that-is-a-header"),
    pytest.param(["Missing NEW_RELIC_LICENSE_KEY, agent disabled", "TypeError: cannot read properties of undefined"],
                 exited(1), "app-crash", id="missing-variable-that-only-disables-a-feature"),
    # The CloudWatch agent with an EKS resource detector on ECS: a config for the wrong platform, not a variable
    # the task definition lacks (setting Kubernetes' own variables would not help).
    pytest.param({"cloudwatch-agent": [
        'Error: failed to build pipelines: failed to create "resourcedetection" processor, in pipeline '
        '"metrics/application_signals": failed creating detector type "eks": failed to create config: unable to load '
        "in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"]},
        {"containers": [box(143, "api"), box(1, "cloudwatch-agent", image="amazon/cloudwatch-agent:latest")]},
        "app-crash", id="kubernetes-injected-variables-mean-a-kubernetes-config"),
    pytest.param(["panic: KUBERNETES_SERVICE_HOST is not set: unable to load in-cluster configuration"], exited(2),
                 "app-crash", id="in-cluster-client-outside-kubernetes"),
    pytest.param(["Hint: you can set a LOG_LEVEL environment variable to change the verbosity",
                  "panic: runtime error: index out of range"], exited(2), "app-crash",
                 id="set-a-variable-as-a-tip-not-a-demand"),
    pytest.param(["Warning: environment variable not set, using defaults", "panic: runtime error: index out of range"],
                 exited(2), "app-crash", id="unnamed-variable-with-a-default"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                  "    port = int(os.environ.get('PORT'))",
                  "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"],
                 {}, "app-crash", id="environ-get-none-names-nothing-missing"),
    pytest.param(["Error: connect ECONNREFUSED 10.0.0.5:5432", "    at TCPConnectWrap.afterConnect (node:net:1278:16)",
                  "Missing SENTRY_DSN, error reporting off"], exited(1), "database-connection-failed",
                 id="missing-optional-integration-after-the-real-error"),
    pytest.param(["thread 'main' panicked at src/main.rs:10:5:",
                  "called `Result::unwrap()` on an `Err` value: ConnectionRefused", "cache entry NotPresent for key user:42"],
                 exited(101), "app-crash", id="notpresent-that-is-not-a-var-error"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


@pytest.mark.parametrize(("line", "variable"), [
    ("thread 'tokio-runtime-worker-0' panicked at 'User env var should exist: NotPresent'", "USER"),
    ("thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: NotPresent', src/main.rs:5:37", None),
])
def test_a_panic_that_names_the_variable_in_words_is_set_by_name(line, variable):
    """"User env var should exist" names the variable (USER): set it; near miss: a bare NotPresent names none and
    keeps the compare-the-variables step."""
    f = run([line], **exited(101))
    assert f.pattern == "missing-env-var"
    text = "\n".join(f.remediation)
    if variable:
        assert f'"name": "{variable}"' in f.remediation[0] and "does not name" not in f.title, (f.title, text)
    else:
        assert "does not name" in f.title and "compare them" in f.remediation[0]


@pytest.mark.parametrize(("var", "secret"), [("DATABASE_URL", True), ("FEATURE_FLAGS_TABLE", False)])
def test_a_sensitive_variable_is_stored_under_a_name_the_fix_gives_so_nothing_is_left_to_fill_in(var, secret):
    """create-secret from the shell's own variable, valueFrom and the execution-role grant all name
    <family>/<VAR>; near miss: a plain variable is an environment entry whose value only the team knows."""
    from shared.render import steps
    from tests.support.fixcheck import command_problems, policy_problems

    f = run([f"RuntimeError: environment variable {var} is missing."], **exited(1))
    assert f.pattern == "missing-env-var" and f.facts.get("variable") == var
    text = "\n".join(f.remediation)
    cmds = [c for s in f.remediation for c in steps.commands(s)]
    assert all(command_problems(c) == [] for c in cmds), cmds
    assert all(policy_problems(d) == [] for s in f.remediation for d in steps.policies(s))
    if secret:
        assert f'--secret-string "${var}"' in text and f"/{var}-??????" in text, text
        assert "<" not in f.remediation[0], f.remediation[0]
    else:
        assert "create-secret" not in text and f"<the value of {var}>" in text


def _erlang_crash(message: str, struct: str = "RuntimeError") -> list[str]:
    """The VM's boot crash term, the Elixir exception's message printed as the bytes of a binary."""
    data = ",".join(str(b) for b in message.encode())
    return ["ERROR! Config provider Config.Reader failed with:",
            "{\"init terminating in do_boot\",{#{'__exception__'=>true,'__struct__'=>'Elixir." + struct
            + f"',message=><<{data}>>}},[{{erl_eval,do_apply,6,[{{file,\"erl_eval.erl\"}},{{line,685}}]}}]}}"]


def test_an_elixir_message_printed_as_bytes_is_read_decoded_and_the_line_quoted_as_printed():
    logs = _erlang_crash("environment variable SECRET_KEY_BASE is missing.\nYou can generate one by calling: mix phx.gen.secret\n")
    f = run(logs, **exited(1))
    assert_finding(f, ID, {"variable": "SECRET_KEY_BASE"})
    assert "<<101,110,118" in f.evidence[0].text  # the evidence is the line as the VM printed it


@pytest.mark.parametrize(("message", "exception"), [
    ("could not connect to the cache: timeout\n", "RuntimeError: could not connect to the cache: timeout"),
    ("environment variable LOG_LEVEL is missing, using the default info\n",
     "RuntimeError: environment variable LOG_LEVEL is missing, using the default info"),
])
def test_near_miss_a_decoded_elixir_message_that_names_no_missing_variable_is_an_app_crash(message, exception):
    f = run(_erlang_crash(message), **exited(1))
    assert f.pattern == "app-crash" and f.facts["exception"] == exception, (f.pattern, f.facts)
    assert PATTERN.match(evidence(_erlang_crash(message), **exited(1))) is None


@pytest.mark.parametrize(("logs", "expected"), [
    pytest.param(["Mailer disabled. Required environment variables: SMTP_HOST, SMTP_PASSWORD",
                  "Server listening at http://0.0.0.0:8080", "worker pool started",
                  "Error: Cannot find module 'sharp'", "    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)"],
                 "missing-dependency", id="the-app-started-without-them-then-died-of-something-else"),
    pytest.param(["Server listening at http://0.0.0.0:8080",
                  "Error: Required environment variables: SMTP_HOST, SMTP_PASSWORD",
                  "    at sendMail (/app/dist/mail.js:8:11)"], ID, id="near-miss-read-after-it-was-ready"),
    pytest.param(["Error: Required environment variables: SMTP_HOST, SMTP_PASSWORD",
                  "    at loadConfig (/app/dist/config.js:8:11)"], ID, id="near-miss-it-never-said-ready"),
])
def test_a_variable_the_app_started_without_is_a_warning_not_why_it_stopped(logs, expected):
    assert run(logs, **exited(1)).pattern == expected
