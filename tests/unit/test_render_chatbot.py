"""The Amazon Q Developer in chat applications (Chatbot) custom notification."""

from __future__ import annotations

import re

from shared.models.finding import DeploymentSummary
from shared.render.channels import Occurrence
from shared.render.chatbot import DESCRIPTION_MAX, render_chatbot, thread_id
from tests.unit.helpers import run
from tests.unit.test_render_slack import HOSTILE


def test_custom_notification_shape():
    f = run(["KeyError: 'DATABASE_URL'"])
    msg = render_chatbot(f)
    assert msg["version"] == "1.0" and msg["source"] == "custom"
    c = msg["content"]
    assert c["textType"] == "client-markdown"
    assert "Missing environment variable DATABASE_URL" in c["title"] and c["title"].startswith(":red_circle:")
    assert "`DATABASE_URL`" in c["description"]
    assert "*Task definition* `orders-api:12`" in c["description"]
    assert "*Stop code* `EssentialContainerExited`" in c["description"]
    assert c["nextSteps"] and len(c["nextSteps"]) == min(len(f.remediation), 8)
    assert c["keywords"] == ["critical", "missing-env-var", "orders-api", "prod"]
    m = msg["metadata"]
    assert m["eventType"] == "missing-env-var"
    assert m["relatedResources"][0] == f.task.task_arn
    assert m["additionalContext"]["service"] == "orders-api"
    assert m["threadId"] == "ecs-autopsy/111122223333/prod/orders-api/ecs-svc/1234567890123456789"


def test_thread_per_service_and_deployment():
    a = run(["KeyError: 'X'"], taskArn="arn:aws:ecs:us-east-1:111122223333:task/prod/" + "a" * 32)
    b = run(["OSError: [Errno 98] Address already in use"],
            taskArn="arn:aws:ecs:us-east-1:111122223333:task/prod/" + "b" * 32)
    c = run(["KeyError: 'X'"], startedBy="ecs-svc/999")
    d = run(["KeyError: 'X'"], group="service:payments")
    assert thread_id(a) == thread_id(b)  # same service, same deployment: one thread
    assert thread_id(a) != thread_id(c)  # a new deployment: a new thread
    assert thread_id(a) != thread_id(d)
    dep = a.model_copy(update={"scope": "deployment", "deployment": DeploymentSummary(
        service="orders-api", deployment_id="ecs-svc/1234567890123456789", patterns={"missing-env-var": 5})})
    assert thread_id(dep) == thread_id(a)
    assert "*Root causes:* `missing-env-var` 5" in render_chatbot(dep)["content"]["description"]


def test_hostile_text_is_inert_and_bounded():
    f = run(HOSTILE, stoppedReason="Essential container in task exited <!channel>")
    msg = render_chatbot(f, Occurrence(count=10, window_seconds=900, max_posts=5))
    c = msg["content"]
    assert len(c["description"]) <= DESCRIPTION_MAX
    for text in [c["title"], c["description"], *c["nextSteps"]]:
        assert all(link.startswith("<https://us-east-1.console.aws.amazon.com/") for link in re.findall(r"<[^>]*>", text))
        assert not re.search(r"@(here|channel|everyone)\b", text)
    body = c["description"].split("```", 1)[1].rsplit("```", 1)[0]
    assert "``" not in body
    assert c["description"].startswith(":repeat: *Still happening: seen 10 times in the last 15 min.")
    assert all("<" not in k and "@here" not in k for k in c["keywords"])
