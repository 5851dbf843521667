"""The local AWS stand-in: moto's server on 127.0.0.1, in its own process group, never left behind.

    with StandIn().start() as aws:          # a free port; returns once the server answers
        os.environ.update(aws.env())        # AWS_ENDPOINT_URL, fake credentials, the Region
        ...
    # stopped here, and also on exit, on SIGTERM/SIGHUP and on Ctrl-C

The server is ``python -m demo.standin`` (moto's ``moto_server`` with one extension, see below),
started with ``start_new_session`` so that a Ctrl-C in the terminal reaches only the demo, which
then stops the server's whole process group. The child also asks Linux to send it SIGTERM if the
parent dies without cleaning up (``PR_SET_PDEATHSIG``), so even a killed demo leaves nothing running.

Two extensions, where moto is thinner than the APIs ecs-autopsy reads. ECS: moto does not model how a task ends. Its StopTask keeps the reason only, and
DescribeTasks then reports no stop code, no stop time and exit code 0 for every container. Real ECS
reports all three, and the deploy-failed handler reads them (ListTasks + DescribeTasks). Here a
task run with the tags ``ecs-autopsy-demo:stopCode`` and ``ecs-autopsy-demo:exitCode`` (and
optionally ``ecs-autopsy-demo:reason``, the container's reason) reports them once stopped, with
``startedAt``/``stoppedAt``: what ECS would say about that task. IAM: moto does not implement
SimulatePrincipalPolicy; here it evaluates the role's own policies with moto's policy evaluator
(`extend_iam`). ECS service deployments and revisions, which moto lacks, are modelled in
demo/deployments.py. Nothing else differs from moto.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "111122223333"
REGION = "us-east-1"
TAG_PREFIX = "ecs-autopsy-demo:"
_PARENT_ENV = "ECS_AUTOPSY_STANDIN_PARENT"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def fake_credentials_env(endpoint: str, region: str = REGION) -> dict[str, str]:
    """What boto3 needs to talk to the stand-in, and only to it."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # No profile, config or credentials file of the person running the demo is read.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class StandInError(RuntimeError):
    pass


class StandIn:
    """One moto server process for the lifetime of this object (see the module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *, account: str = ACCOUNT,
                 region: str = REGION, log: Path | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the stand-in binds a loopback address only, not {host}")
        self.host, self.port = host, port
        self.account, self.region = account, region
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._previous: dict[int, Any] = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        return fake_credentials_env(self.url, self.region)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> StandIn:
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            self.port = self.port or free_port(self.host)
            self._spawn()
            try:
                self._wait_ready(timeout)
                return self
            except StandInError:
                self.stop()
                self.port = None
        raise StandInError("the AWS stand-in (moto server) did not start; see its log")

    def _spawn(self) -> None:
        env = {**os.environ, "MOTO_ACCOUNT_ID": self.account, _PARENT_ENV: str(os.getpid()),
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "demo.standin", "-H", self.host, "-p", str(self.port)],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        finally:
            if self.log:
                out.close()  # type: ignore[union-attr]
        self._install_cleanup()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise StandInError("the stand-in exited at start")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.5):
                return
            time.sleep(0.05)
        raise StandInError(f"the stand-in did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop the server's whole process group (SIGTERM, then SIGKILL after 5 s). Idempotent."""
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # anything its group may have left
        self._restore_signals()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def __enter__(self) -> StandIn:
        return self if self.proc else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- cleanup on exit and signals ------------------------------------------------------------
    def _install_cleanup(self) -> None:
        atexit.register(self.stop)
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous = signal.getsignal(sig)
            if sig in self._previous:
                continue
            self._previous[sig] = previous

            def on_signal(signum: int, frame: Any, previous: Any = previous) -> None:
                self.stop()
                if callable(previous) and previous not in (signal.SIG_IGN, signal.SIG_DFL):
                    previous(signum, frame)
                raise SystemExit(128 + signum)

            signal.signal(sig, on_signal)
        # SIGINT keeps Python's default: KeyboardInterrupt unwinds through the caller's `finally`/`with`,
        # and atexit covers the rest.

    def _restore_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, previous)
        self._previous.clear()


# -------------------------------------------------------------------------------------------------
# The server process
# -------------------------------------------------------------------------------------------------
def _die_with_parent() -> None:
    """Linux: SIGTERM this process when the demo that started it dies, however it dies."""
    parent = os.environ.get(_PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if str(os.getppid()) != parent:  # the parent died before prctl took effect
        sys.exit(0)


def extend_ecs() -> None:
    """Make a stopped task report its stop code, exit codes and times (see the module docstring)."""
    import datetime

    from moto.ecs import models

    if getattr(models.EC2ContainerServiceBackend, "_autopsy_extended", False):
        return
    original = models.EC2ContainerServiceBackend.stop_task

    def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        task = original(self, cluster_str, task_str, reason)
        tags = {t.get("key"): t.get("value") for t in (task.tags or [])}
        now = datetime.datetime.now(datetime.UTC)
        task.stopped_at = now
        task.stopping_at = now
        task.started_at = now - datetime.timedelta(seconds=20)
        code = tags.get(TAG_PREFIX + "stopCode")
        if code:
            task.stop_code = code
        exit_code = tags.get(TAG_PREFIX + "exitCode")
        for container in task.containers:
            container.last_status = "STOPPED"
            if exit_code not in (None, ""):
                container.exitCode = int(exit_code)
            if tags.get(TAG_PREFIX + "reason"):
                container.reason = tags[TAG_PREFIX + "reason"]
        return task

    models.EC2ContainerServiceBackend.stop_task = stop_task
    models.EC2ContainerServiceBackend._autopsy_extended = True
    from demo import deployments

    deployments.install()  # service deployments and revisions, driven by the calls above


def extend_iam() -> None:
    """SimulatePrincipalPolicy for a role, with moto's own policy evaluator over the role's inline and
    attached policies (moto does not implement the API). Explicit deny > allow > implicit deny, as IAM
    decides within one account; no permissions boundary, SCP or condition context is simulated."""
    from moto.core.responses import ActionResult
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.responses import IamResponse

    if hasattr(IamResponse, "simulate_principal_policy"):
        return

    def simulate_principal_policy(self: Any) -> Any:
        role = self.backend.get_role_by_arn(self._get_param("PolicySourceArn"))
        policies: list[tuple[str, Any]] = list(role.policies.items())
        policies += [(p.name, p) for p in role.managed_policies.values()]
        results = []
        for action in self._get_param("ActionNames", []):
            for resource in self._get_param("ResourceArns", []) or ["*"]:
                decision, matched = "implicitDeny", []
                for name, document in policies:
                    verdict = IAMPolicy(document).is_action_permitted(action, resource)
                    if verdict == PermissionResult.DENIED:
                        decision, matched = "explicitDeny", [name]
                        break
                    if verdict == PermissionResult.PERMITTED:
                        decision = "allowed"
                        matched.append(name)
                results.append({"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision,
                                "MatchedStatements": [{"SourcePolicyId": m, "SourcePolicyType": "IAM Policy"}
                                                      for m in matched],
                                "MissingContextValues": []})
        return ActionResult({"EvaluationResults": results, "IsTruncated": False})

    IamResponse.simulate_principal_policy = simulate_principal_policy


def main(argv: list[str] | None = None) -> None:
    _die_with_parent()
    extend_ecs()
    extend_iam()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
