"""too-many-open-files: the process ran out of file descriptors (EMFILE)."""

from __future__ import annotations

import pytest

from shared.patterns.too_many_open_files import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import exited

ID = "too-many-open-files"

POSITIVES = [
    pytest.param(["Traceback (most recent call last):", '  File "/app/worker.py", line 41, in <module>',
                  "OSError: [Errno 24] Too many open files: '/tmp/batch-0412.csv'"], "python", id="python-errno-24"),
    pytest.param(['Exception in thread "http-nio-8080-Acceptor" java.io.IOException: Too many open files',
                  "\tat java.base/sun.nio.ch.Net.accept(Native Method)"], "java", id="java-acceptor"),
    pytest.param(["2024/05/01 10:00:00 http: Accept error: accept tcp [::]:8080: accept4: too many open files; "
                  "retrying in 1s", "panic: accept tcp [::]:8080: accept4: too many open files"], "go", id="go-accept"),
    pytest.param(["Error: EMFILE: too many open files, open '/app/uploads/3f2a.png'",
                  "    at Object.openSync (node:fs:601:3)"], "node", id="node-emfile"),
    pytest.param(["2024/05/01 10:00:00 [alert] 7#7: *1021 socket() failed (24: Too many open files) while "
                  "connecting to upstream"], "nginx", id="nginx-alert"),
]


@pytest.mark.parametrize(("logs", "language"), POSITIVES)
def test_matches_and_names_the_runtime(logs, language):
    f = run(logs, **exited(1))
    assert f.pattern == ID
    assert f.facts["container"] == "app" and f.facts["language"] == language
    # On Fargate (the default here) the limit is already 65535: the leak comes first, the raise goes higher.
    assert "leak" in f.remediation[0] and "ulimits" in f.remediation[1] and "nofile" in f.remediation[1]


def test_fargate_says_the_default_is_already_high():
    f = run(POSITIVES[0].values[0], **exited(1), launchType="FARGATE")
    assert "65535" in " ".join(f.remediation) and "leak" in " ".join(f.remediation)


def test_ec2_says_where_the_default_comes_from():
    f = run(POSITIVES[0].values[0], **exited(1), launchType="EC2")
    assert "Docker daemon" in " ".join(f.remediation)


NEGATIVES = [
    pytest.param(["WARN low open-files limit (ulimit -n 1024); consider raising it", "listening on :8080",
                  "Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                  "KeyError: 'DATABASE_URL'"], "missing-env-var", id="a-warning-about-the-limit-is-not-the-cause"),
    pytest.param(["Error: EADDRINUSE: address already in use :::3000",
                  "    at Server.setupListenHandle [as _listen2] (node:net:1872:16)"], "port-in-use",
                 id="another-errno-word-from-node"),
    pytest.param(["OSError: [Errno 28] No space left on device: '/tmp/out.csv'"], "disk-full",
                 id="another-errno-from-python"),
]


@pytest.mark.parametrize(("logs", "expected"), NEGATIVES)
def test_nearest_neighbours(logs, expected):
    assert run(logs, **exited(1)).pattern == expected


def test_a_warn_line_alone_does_not_match():
    ev = evidence(["WARN Too many open files in /proc/self/fd, pruning cache", "request handled"], **exited(0))
    assert PATTERN.match(ev) is None
