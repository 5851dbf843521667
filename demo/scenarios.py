"""The demo's scenarios: what happens to a team's services, and what ecs-autopsy must say about it.

Each scenario names a sample from events/ (the event ECS sends and the log lines the task wrote),
the part of the account it needs (a task definition revision, a service behind a target group, a
task role), how it is played (one event; the same event twice; a deployment whose tasks crash in a
loop) and what must come out of it: the pattern, key facts, how many Slack posts and SNS messages.
`make demo` fails when any scenario's outcome differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from demo.standin import ACCOUNT, REGION

DEPLOYMENT_ID = "ecs-svc/4820735162394857120"
CRASH_LOOP_TASKS = 50
CHANGE_TASKS = 3  # stopped tasks of a deploy whose change breaks it: the circuit breaker trips at 3


@dataclass(frozen=True)
class Expect:
    pattern: str
    facts: dict[str, Any] = field(default_factory=dict)
    symptom: str | None = None
    slack: tuple[int, int] = (1, 1)  # at least, at most
    sns: int = 1
    scope: str = "task"
    remediation_has: tuple[str, ...] = ()  # text that one remediation step must contain
    verdict_has: str | None = None  # text the "what changed" verdict must contain

    def slack_text(self) -> str:
        lo, hi = self.slack
        return str(lo) if lo == hi else f"{lo}-{hi}" if lo else f"<= {hi}"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    sample: str
    expect: Expect
    kind: str = "task"  # task | duplicate | deploy | change (a service deployment from a healthy revision)
    target_group: str | None = None
    container: str = "app"
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    task_role_actions: tuple[str, ...] = ()
    task_role_resource: str = "*"
    tasks: int = 1  # stopped tasks (deploy: the crash loop)
    tags: dict[str, str] = field(default_factory=dict)  # on the service: ecs-autopsy:* routing tags
    fixed_env: dict[str, str] = field(default_factory=dict)  # deploy: the revision the rollback returns to
    # change: the service (else the sample's), the healthy revision's environment and memory (else the
    # failing one's), and whether the image is pushed again under the same tag (a new digest).
    service: str | None = None
    before_env: dict[str, str] | None = None
    before_memory: str | None = None
    repush: bool = False


DB_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/orders/db-Xy12Ab"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        key="health-check-missing-env",
        title="ALB health checks fail; the root cause is a missing environment variable",
        sample="missing-env-var--behind-elb-health-check", target_group="orders-api-tg",
        env={"LOG_LEVEL": "info", "PORT": "8000"},
        expect=Expect("missing-env-var", {"variable": "DATABASE_URL"}, symptom="health-check-failed"),
    ),
    Scenario(
        key="bound-loopback",
        title="The app listens on 127.0.0.1, so the load balancer never reaches it",
        sample="health-check-failed--bound-loopback", target_group="inference-api-tg", container="api",
        env={"MODEL": "resnet50"},
        expect=Expect("health-check-failed", {"cause": "not-listening", "listen_address": "127.0.0.1"}),
    ),
    Scenario(
        key="iam-access-denied",
        title="AccessDenied on DynamoDB PutItem: the task role lacks the permission",
        sample="iam-access-denied", env={"ORDERS_TABLE": "orders"},
        task_role_actions=("dynamodb:GetItem", "dynamodb:Query"),
        task_role_resource=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders",
        expect=Expect("iam-access-denied", {"action": "dynamodb:PutItem", "role_kind": "task role",
                                            "simulation": "implicitDeny"},
                      remediation_has=("dynamodb:PutItem",)),
    ),
    Scenario(
        key="image-pull",
        title="The new image tag was never pushed: the pull fails",
        sample="image-pull-failed",
        expect=Expect("image-pull-failed", {"cause": "not-found"}),
    ),
    Scenario(
        key="secrets-at-start",
        title="The execution role may not read the database secret: the task cannot start",
        sample="secrets-retrieval-failed", secrets={"DB_PASSWORD": DB_SECRET},
        expect=Expect("secrets-retrieval-failed", {"cause": "access-denied"}),
    ),
    Scenario(
        key="out-of-memory",
        title="A batch job outgrows its memory and is killed",
        sample="out-of-memory",
        expect=Expect("out-of-memory", {"container": "app"}),
    ),
    Scenario(
        key="db-refused",
        title="The database refuses connections at start-up",
        sample="database-connection-failed",
        env={"DATABASE_HOST": "orders-db.c9akciq32lmn.us-east-1.rds.amazonaws.com", "DATABASE_PORT": "5432"},
        expect=Expect("database-connection-failed", {"cause": "refused", "port": 5432}),
    ),
    Scenario(
        key="scale-in",
        title="Auto scaling removes a healthy task (expected: not posted)",
        sample="expected-stop--scale-in",
        expect=Expect("expected-stop", {"reason": "scale-in"}, slack=(0, 0)),
    ),
    Scenario(
        key="duplicate-event",
        title="EventBridge delivers the same event twice (delivered once)",
        sample="app-crash", kind="duplicate", tasks=1,
        expect=Expect("app-crash", slack=(1, 1), sns=1),
    ),
    Scenario(
        key="deploy-crash-loop",
        title=f"A deploy crash-loops {CRASH_LOOP_TASKS} tasks; the circuit breaker fails it",
        sample="missing-env-var", kind="deploy", tasks=CRASH_LOOP_TASKS,
        env={"NODE_ENV": "production", "STRIPE_API_BASE": "https://api.stripe.com"},
        fixed_env={"NODE_ENV": "production", "STRIPE_API_BASE": "https://api.stripe.com",
                   "STRIPE_WEBHOOK_SECRET": "from-secrets-manager"},
        tags={"ecs-autopsy:slack-channel": "C0BILLING1", "ecs-autopsy:mention": "<!subteam^S0BILLING1>",
              "ecs-autopsy:team": "billing"},
        expect=Expect("missing-env-var", {"variable": "STRIPE_WEBHOOK_SECRET"}, slack=(1, 5),
                      sns=CRASH_LOOP_TASKS + 1, scope="deployment"),
    ),
    Scenario(
        key="deploy-drops-env",
        title="A deploy drops DATABASE_URL: the circuit breaker rolls back, the diff names the change",
        sample="missing-env-var--deploy-drops-database-url", kind="change", tasks=CHANGE_TASKS,
        env={"LOG_LEVEL": "info"},
        before_env={"DATABASE_URL": "postgres://checkout@checkout-db.internal:5432/checkout", "LOG_LEVEL": "info"},
        expect=Expect("missing-env-var", {"variable": "DATABASE_URL"}, slack=(1, 3), sns=CHANGE_TASKS + 1,
                      scope="deployment", verdict_has="DATABASE_URL was removed in revision",
                      remediation_has=("rolled the service back to",)),
    ),
    Scenario(
        key="deploy-lowers-memory",
        title="A deploy lowers the memory limit: the tasks are OOM-killed",
        sample="out-of-memory", kind="change", tasks=CHANGE_TASKS, service="thumbnailer-batch",
        before_memory="2048",
        expect=Expect("out-of-memory", {"container": "app"}, slack=(1, 3), sns=CHANGE_TASKS + 1,
                      scope="deployment", verdict_has="lowered from 2048 to 1024"),
    ),
    Scenario(
        key="deploy-same-tag",
        title="The same tag is pushed again with new code: only the image digest changed",
        sample="app-crash", kind="change", tasks=CHANGE_TASKS, service="orders-consumer-canary", repush=True,
        expect=Expect("app-crash", slack=(1, 3), sns=CHANGE_TASKS + 1, scope="deployment",
                      verdict_has="only the image content (digest) changed"),
    ),
)


def with_crash_loop(tasks: int) -> tuple[Scenario, ...]:
    """The scenarios with another crash-loop size (the e2e test may use fewer tasks)."""
    from dataclasses import replace

    out = []
    for s in SCENARIOS:
        if s.kind == "deploy":
            s = replace(s, tasks=tasks, title=s.title.replace(str(CRASH_LOOP_TASKS), str(tasks)),
                        expect=replace(s.expect, sns=tasks + 1))
        out.append(s)
    return tuple(out)
