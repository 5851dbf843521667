"""missing-dependency: modules, packages, classes and shared libraries absent from the image."""

from __future__ import annotations

import pytest

from shared.patterns.missing_dependency import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, exited

ID = "missing-dependency"
DEPENDENCY_REASON = ("CannotStartContainerError: dependency graph: failed to resolve container ordering dependency "
                     "[migrate(app:1) (STOPPED->RUNNING) - Exit: 1] for target [api(app:1) (NONE->RUNNING)] as "
                     "dependency did not exit successfully.")

POSITIVES = [
    pytest.param(["./api: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.32' not found (required by ./api)"],
                 exited(1), {"module": "GLIBC_2.32", "language": "native"}, id="glibc-too-old-in-runtime-image"),
    pytest.param(["Error loading shared library libstdc++.so.6: No such file or directory (needed by /app/bin/worker)"],
                 exited(127), {"module": "libstdc++.so.6", "language": "native"}, id="alpine-musl-loader"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/app.py", line 1, in <module>', "    import flask",
                  "ModuleNotFoundError: No module named 'flask'"],
                 {}, {"module": "flask", "language": "python"}, id="python-modulenotfound"),
    pytest.param(["ModuleNotFoundError: No module named 'google.cloud'"], {}, {"module": "google.cloud"},
                 id="python-dotted"),
    pytest.param(["[2024-05-01 10:00:00 +0000] [7] [ERROR] Exception in worker process",
                  "Traceback (most recent call last):",
                  '  File "/usr/local/lib/python3.12/site-packages/gunicorn/arbiter.py", line 609, in spawn_worker',
                  "    worker.init_process()", "ModuleNotFoundError: No module named 'myproject'",
                  "[2024-05-01 10:00:00 +0000] [7] [INFO] Worker exiting (pid: 7)",
                  "[2024-05-01 10:00:00 +0000] [1] [ERROR] Reason: Worker failed to boot."],
                 exited(3), {"module": "myproject"}, id="gunicorn-worker-failed-to-boot"),
    pytest.param(['ERROR:    Error loading ASGI app. Could not import module "main".'], {},
                 {"module": "main", "language": "python"}, id="uvicorn-could-not-import-module"),
    pytest.param(["ImportError: cannot import name 'url_quote' from 'werkzeug.urls' "
                  "(/usr/local/lib/python3.11/site-packages/werkzeug/urls.py)"],
                 {}, {"module": "url_quote (from werkzeug.urls)", "kind": "version-mismatch"}, id="python-cannot-import-name"),
    pytest.param(["ImportError: libGL.so.1: cannot open shared object file: No such file or directory"], {},
                 {"module": "libGL.so.1", "language": "native"}, id="opencv-libgl"),
    pytest.param(["/app/server: error while loading shared libraries: libssl.so.1.1: cannot open shared object file: "
                  "No such file or directory"],
                 exited(127), {"module": "libssl.so.1.1", "language": "native"}, id="ld-so-shared-library"),
    pytest.param(["node:internal/modules/cjs/loader:1080", "  throw err;", "  ^", "",
                  "Error: Cannot find module 'express'", "Require stack:", "- /usr/src/app/server.js",
                  "    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)",
                  "  code: 'MODULE_NOT_FOUND',"],
                 {}, {"module": "express", "language": "node"}, id="node-cjs"),
    pytest.param(["node:internal/errors:496", "    ErrorCaptureStackTrace(err);", "    ^", "",
                  "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'dotenv' imported from /app/index.js",
                  "    at new NodeError (node:internal/errors:405:5)"],
                 {}, {"module": "dotenv", "language": "node"}, id="node-esm-package"),
    pytest.param(["Error: Cannot find module '/app/dist/main.js'",
                  "    at Module._resolveFilename (node:internal/modules/cjs/loader:1039:15)"],
                 {}, {"module": "/app/dist/main.js"}, id="node-build-output-missing"),
    pytest.param(['Exception in thread "main" java.lang.NoClassDefFoundError: org/slf4j/LoggerFactory',
                  "\tat com.acme.App.<clinit>(App.java:9)",
                  "Caused by: java.lang.ClassNotFoundException: org.slf4j.LoggerFactory"],
                 {}, {"module": "org.slf4j.LoggerFactory", "language": "java"}, id="java-noclassdeffound"),
    pytest.param(["Error: Could not find or load main class com.acme.Application",
                  "Caused by: java.lang.ClassNotFoundException: com.acme.Application"],
                 {}, {"module": "com.acme.Application", "language": "java"}, id="java-main-class"),
    pytest.param(["/usr/local/lib/ruby/3.2.0/bundled_gems.rb:74:in `require': cannot load such file -- nokogiri "
                  "(LoadError)"], {}, {"module": "nokogiri", "language": "ruby"}, id="ruby-loaderror"),
    pytest.param(["Could not find rack-3.0.8 in locally installed gems (Bundler::GemNotFound)"], {},
                 {"module": "rack", "version": "3.0.8", "language": "ruby"}, id="bundler-gemnotfound"),
    pytest.param(["PHP Fatal error:  Uncaught Error: Failed opening required '/var/www/html/vendor/autoload.php' "
                  "(include_path='.:/usr/local/lib/php') in /var/www/html/index.php:3"],
                 exited(255), {"module": "/var/www/html/vendor/autoload.php", "language": "php"}, id="php-autoload"),
    pytest.param(["You must install or update .NET to run this application.", "", "App: /app/Api.dll",
                  "Architecture: x64", "Framework: 'Microsoft.AspNetCore.App', version '8.0.0' (x64)"],
                 exited(150), {"language": "dotnet", "kind": "runtime"}, id="dotnet-framework-missing"),
    pytest.param(["Unhandled exception. System.IO.FileNotFoundException: Could not load file or assembly "
                  "'Newtonsoft.Json, Version=13.0.0.0, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed'. "
                  "The system cannot find the file specified."],
                 exited(134), {"module": "Newtonsoft.Json", "language": "dotnet"}, id="dotnet-assembly"),
    pytest.param(["** (UndefinedFunctionError) function Jason.encode!/1 is undefined (module Jason is not available)"],
                 {}, {"module": "Jason", "language": "elixir"}, id="elixir-module-not-available"),
    pytest.param(["uwsgi-1  | Could not find nokogiri-1.18.3-x86_64-linux in locally installed gems "
                  "(Bundler::GemNotFound)"], exited(1, name="uwsgi"),
                 {"module": "nokogiri", "version": "1.18.3", "platform": "x86_64-linux", "container": "uwsgi"},
                 id="ruby-gem-for-another-platform-compose-paste"),
    pytest.param(["Could not find aws-sdk-core-3.201.0 in any of the sources"], exited(1),
                 {"module": "aws-sdk-core", "version": "3.201.0"}, id="ruby-hyphenated-gem-name"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_beats_app_crash_in_the_same_traceback():
    finding = run(["Traceback (most recent call last):", '  File "/app/app.py", line 1, in <module>',
                   "    import pandas", "ModuleNotFoundError: No module named 'pandas'"])
    assert finding.pattern == ID
    assert "app-crash" in finding.also_matched
    assert any("pip" in step or "requirements" in step for step in finding.remediation)


DRIVER_NAMED = [
    # drizzle-kit run as an init container: it names the drivers it can load, the first is the one to add.
    pytest.param(["[dotenv] injecting env (0) from ../../.env.local",
                  "To connect to Postgres database - please install either of 'pg', 'postgres', "
                  "'@neondatabase/serverless' or '@vercel/postgres' drivers", 'error: script "migrate" exited with code 1'],
                 {"containers": [box(1, "migrate"), box(143, "api", reason=DEPENDENCY_REASON)]},
                 {"module": "pg", "container": "migrate"}, id="drizzle-either-of-drivers-init-container"),
    pytest.param(["Error: Please install pg package manually", "    at ConnectionManager._loadDialectModule "
                  "(/app/node_modules/sequelize/lib/dialects/abstract/connection-manager.js:81:15)"],
                 exited(1), {"module": "pg"}, id="sequelize-install-package-manually"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), DRIVER_NAMED)
def test_a_tool_that_names_the_driver_to_install(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


NEGATIVES = [
    pytest.param(["Tip: please install the 'bufferutil' package for better WebSocket performance",
                  "TypeError: Cannot read properties of undefined (reading 'send')",
                  "    at Server.<anonymous> (/app/src/ws.js:40:12)"], exited(1), "app-crash",
                 id="install-tip-for-performance-is-not-a-missing-dependency"),
    pytest.param(["Docker is not available, please install Docker Desktop first",
                  "Error: spawn docker ENOENT"], exited(1), "app-crash", id="please-install-a-tool-not-a-package"),
    pytest.param(["WARNING: ModuleNotFoundError: No module named 'ujson', falling back to json",
                  "Traceback (most recent call last):", '  File "/app/main.py", line 20, in <module>', "    run()",
                  "ValueError: invalid literal for int() with base 10: 'abc'"],
                 {}, "app-crash", id="handled-optional-import-warning"),
    pytest.param(['{"level":"info","msg":"optional dependency not installed: No module named \'orjson\'"}',
                  "Segmentation fault (core dumped)"],
                 exited(139), "app-crash", id="info-level-import-probe"),
    pytest.param(['exec: "gunicorn": executable file not found in $PATH'], {}, "container-start-failed",
                 id="executable-not-found-is-start-failure"),
    pytest.param(["GET /favicon.ico 404 Not Found", "Error: listen EADDRINUSE: address already in use :::3000"], {},
                 "port-in-use", id="http-404-not-found"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


def test_a_gem_built_for_another_platform_gets_the_lockfile_platform_fix():
    finding = run(["Could not find nokogiri-1.18.3-x86_64-linux in locally installed gems (Bundler::GemNotFound)"],
                  **exited(1))
    assert "bundle lock --add-platform x86_64-linux" in "\n".join(finding.remediation)


@pytest.mark.parametrize(("old", "new"), [
    ("org.springframework.boot.loader.JarLauncher", "org.springframework.boot.loader.launch.JarLauncher"),
    ("org.springframework.boot.loader.launch.PropertiesLauncher", "org.springframework.boot.loader.PropertiesLauncher"),
])
def test_a_spring_boot_launcher_of_another_boot_version_fixes_the_start_command(old, new):
    finding = run([f"Error: Could not find or load main class {old}",
                   f"Caused by: java.lang.ClassNotFoundException: {old}"])
    assert finding.pattern == "missing-dependency"
    assert f"`{new}`" in finding.remediation[0] and "entryPoint, command" in finding.remediation[0]
    assert "fat/uber" not in "\n".join(finding.remediation) and "build is missing" not in finding.summary


def test_near_miss_another_missing_class_keeps_the_classpath_advice():
    finding = run(["Caused by: java.lang.ClassNotFoundException: org.springframework.boot.SpringApplication"])
    assert "fat/uber JAR" in finding.remediation[0]


@pytest.mark.parametrize(("line", "fix", "not_fix"), [
    ("Class 'Redis' not found", "pecl install redis && docker-php-ext-enable redis", "composer install"),
    ('PHP Fatal error:  Uncaught Error: Class "ZipArchive" not found in /var/www/app.php:3',
     "docker-php-ext-install zip", "composer install"),
    ("Class 'App\\Services\\Billing' not found", "composer install", "pecl"),
])
def test_a_php_class_of_an_extension_installs_the_extension(line, fix, not_fix):
    """A class an extension provides (Redis, ZipArchive) means the extension; near miss: an app class means the
    Composer autoloader."""
    f = run([line], **exited(1))
    if f.pattern != ID:
        pytest.skip(f"not matched as {ID}: {f.pattern}")
    assert fix in f.remediation[0] and not_fix not in f.remediation[0], f.remediation[0]


@pytest.mark.parametrize(("version", "image"), [
    ("3.0.0", "mcr.microsoft.com/dotnet/core/aspnet:3.0"), ("6.0.0", "mcr.microsoft.com/dotnet/aspnet:6.0"),
])
def test_dotnet_core_images_below_5_live_under_dotnet_core(version, image):
    line = (f"The framework 'Microsoft.AspNetCore.App', version '{version}' was not found.")
    f = run([line, "  - The following frameworks were found:", "      5.0.1 at [/usr/share/dotnet/shared/Microsoft.AspNetCore.App]"],
            **exited(150))
    assert f.pattern == ID and image in f.remediation[0], f.remediation


@pytest.mark.parametrize(("cls", "moved"), [
    ("org.springframework.boot.loader.JarLauncher", True), ("com.example.billing.Main", False),
])
def test_spring_boots_moved_launcher_is_renamed_not_added_to_the_build(cls, moved):
    """Spring Boot 3.2 moved its launcher: name the new class; near miss: an app class keeps the classpath step."""
    f = run([f"Error: Could not find or load main class {cls}",
             f"Caused by: java.lang.ClassNotFoundException: {cls}"], **exited(1))
    if f.pattern != ID:
        pytest.skip(f.pattern)
    assert ("org.springframework.boot.loader.launch.JarLauncher" in f.remediation[0]) == moved, f.remediation[0]


@pytest.mark.parametrize(("line", "version"), [
    ("./api: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./api)", True),
    ("./api: error while loading shared libraries: libssl.so.3: cannot open shared object file: No such file or "
     "directory", False),
])
def test_a_glibc_symbol_version_means_a_newer_base_not_a_package(line, version):
    """`GLIBC_2.34' not found: build and run on the same base / a newer release; near miss: a missing shared
    library is a package to install."""
    f = run([line], **exited(1))
    if f.pattern != ID:
        pytest.skip(f.pattern)
    first = f.remediation[0]
    assert ("same base" in first) == version and ("Install the OS package" in first) == (not version), first


@pytest.mark.parametrize(("module", "package"), [("dotenv", "python-dotenv"), ("corsheaders", "django-cors-headers"),
                                                 ("requests", None)])
def test_a_python_module_whose_package_is_named_otherwise_names_the_package(module, package):
    f = run(["Traceback (most recent call last):", '  File "/app/main.py", line 1, in <module>',
             f"ModuleNotFoundError: No module named '{module}'"], **exited(1))
    assert f.pattern == ID
    assert (f"Add `{package}`" in f.remediation[0]) if package else "the names differ" not in f.remediation[0]


def test_an_app_run_by_yarn_installs_with_yarn():
    finding = run(["Error: Cannot find module 'express'", "    at Function.Module._resolveFilename (module.js:538:15)",
                   "error Command failed with exit code 1.",
                   "info Visit https://yarnpkg.com/en/docs/cli/run for documentation about this command."])
    assert "yarn install --production" in finding.remediation[0] and "npm ci" not in finding.remediation[0]


def test_near_miss_an_app_run_by_npm_installs_with_npm():
    finding = run(["Error: Cannot find module 'express'", "    at Function.Module._resolveFilename (module.js:538:15)",
                   "npm ERR! code ELIFECYCLE"])
    assert "npm ci --omit=dev" in finding.remediation[0]


def test_a_module_required_from_a_sub_folder_mentions_its_own_install():
    finding = run(["Error: Cannot find module 'express'",
                   "    at Object.<anonymous> (/app/metrics/index.js:2:17)"])
    assert "`/app/metrics`" in finding.remediation[0]


def test_near_miss_a_module_required_from_the_app_root_or_its_build_folder_does_not():
    for frame in ("/app/index.js:2:17", "/app/dist/main.js:2:17"):
        finding = run(["Error: Cannot find module 'express'", f"    at Object.<anonymous> ({frame})"])
        assert "own install" not in finding.remediation[0], frame


def test_a_console_export_glued_to_its_timestamps_next_to_a_stopped_sidecar():
    # The app's import error copied from the console with each timestamp glued to its line; the agent next to it
    # was only stopped with the task (143): the app's missing module, in the app.
    logs = {"api": ["2022-11-02 07:41:13Traceback (most recent call last):",
                    '2022-11-02 07:41:13File "/srv/api/wsgi.py", line 4, in <module>',
                    "2022-11-02 07:41:13from reporting.pdf import render",
                    "2022-11-02 07:41:13ModuleNotFoundError: No module named 'reporting'"],
            "otel": []}
    finding = run(logs, containers=[box(1, "api"), box(143, "otel", image="public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0")])
    assert_finding(finding, ID, {"module": "reporting", "language": "python", "kind": "module", "container": "api"})
    assert not any("ECS did not" in step for step in finding.remediation)


@pytest.mark.parametrize(("line", "kind"), [
    pytest.param("ModuleNotFoundError: No module named 'yaml'", "module", id="import-name"),
    pytest.param("pkg_resources.DistributionNotFound: The 'gunicorn' distribution was not found and is required "
                 "by the application", "package", id="distribution"),
])
def test_python_says_whether_a_module_or_a_package_is_missing(line, kind):
    assert run([line], **exited(1)).facts["kind"] == kind


def test_near_miss_a_glued_import_warning_of_an_optional_module_is_not_a_cause():
    logs = ["2022-11-02 07:41:13WARNING: No module named 'ujson', falling back to json",
            "2022-11-02 07:41:14Listening on 0.0.0.0:8000"]
    assert run(logs, **exited(143)).pattern != ID


def test_a_missing_shared_library_names_its_usual_package_and_how_to_find_it():
    from shared.patterns.missing_dependency import _debian_package
    assert _debian_package("libpq.so.5") == "libpq5" and _debian_package("libssl.so.1.1") == "libssl1.1"
    assert _debian_package("libpython3.9.so.1.0") == "libpython3.9" and _debian_package("libGL.so.1") == "libgl1"
    # Near miss: a name ending in digits does not follow the rule, so no package is guessed.
    assert _debian_package("libxml2.so.2") is None
    got = run(["/usr/local/bin/worker: error while loading shared libraries: libpq.so.5: cannot open shared object "
               "file: No such file or directory"], **exited(127))
    assert "apt-get install -y --no-install-recommends libpq5" in got.remediation[0]
    assert "apt-file search libpq.so.5" in got.remediation[0]


def test_a_module_under_npms_global_prefix_is_a_broken_global_tool_not_the_apps_build():
    trace = ["Error: Cannot find module '/usr/local/lib/tools/Main.js'", "    at Module._resolveFilename "
             "(node:internal/modules/cjs/loader:1140:15)", "    at Module._load (node:internal/modules/cjs/loader:981:27)"]
    got = run(trace, **exited(1))
    if got.pattern != ID:
        pytest.skip(got.pattern)
    assert "npm install -g" in got.remediation[0] and "npm run build" not in got.remediation[0]
    # Near miss: a file under the app's own directory is the app's build output.
    app = run([trace[0].replace("/usr/local/lib/tools", "/app/dist"), *trace[1:]], **exited(1))
    assert app.pattern == ID and "npm run build" in app.remediation[0]


def test_celerys_module_not_found_wording_is_a_missing_module():
    """Celery's CLI names a module its app could not import in its own words, after a generic error line."""
    finding = run(["Error:", "Unable to load celery application.", "The module tasks.reports was not found."],
                  **exited(1))
    assert_finding(finding, ID, {"module": "tasks.reports", "language": "python"})


@pytest.mark.parametrize("line", [
    "The module reports was not found in the plugin registry, using defaults",
    "The module 'reports' was not found on the marketplace",
])
def test_near_miss_a_module_not_found_somewhere_else_is_not_an_import_failure(line):
    assert PATTERN.match(evidence([line], **exited(1))) is None


def test_a_gem_bundler_says_is_not_part_of_the_bundle_is_missing():
    # Bundler refuses a require of a gem the Gemfile lacks (Gem::LoadError), e.g. the driver of an ORM adapter.
    finding = run(["/app/vendor/bundle/ruby/3.1.0/gems/activerecord-7.0.4/lib/active_record/connection_adapters.rb:"
                   "261:in `rescue in resolve_pool_config': Error loading the 'mysql2' Active Record adapter. Missing "
                   "a gem it depends on? mysql2 is not part of the bundle. Add it to your Gemfile. (LoadError)"])
    assert_finding(finding, ID, {"module": "mysql2", "language": "ruby"})
    assert "Gemfile" in "\n".join(finding.remediation)


def test_near_miss_an_optional_gem_outside_the_bundle_that_falls_back_is_not_a_cause():
    logs = ["W, [2024-03-01T10:00:00] WARN -- : oj is not part of the bundle, falling back to the json gem",
            "NoMethodError: undefined method `id' for nil:NilClass",
            "  /app/app/models/order.rb:14:in `total'"]
    assert run(logs, **exited(1)).pattern != ID
    assert PATTERN.match(evidence(logs, **exited(1))) is None
