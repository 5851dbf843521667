"""dev30's graded faults, as general rules with near misses:
- iam-access-denied pointed at "the CloudTrail event of the denied call" for s3:GetObject, a CloudTrail DATA event
  (not recorded by default, never in Event history); management events keep the pointer.
- missing-dependency for "cannot import name 'X' from 'a.b'" verified with `import X` (X is a name inside a.b, so
  that always fails), and always pinned a pip package although a.b can be the app's own code in a stale image.
- a task another program starts (startedBy names a scheduler, an executor, a dispatcher) was "rolled out" with a
  one-off run-task, which changes nothing that program starts next."""

from __future__ import annotations

import shlex

import pytest

from shared.patterns.iam_access_denied import data_event
from tests.unit.helpers import run

_ROLE = "arn:aws:sts::111122223333:assumed-role/orders-task/0123456789abcdef"


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObjectVersion",
                                    "lambda:InvokeFunction", "dynamodb:PutItem", "dynamodb:Query",
                                    "dynamodb:BatchWriteItem", "sqs:SendMessage", "sqs:ReceiveMessage",
                                    "sns:Publish", "kinesis:PutRecords"])
def test_data_event_actions(action):
    assert data_event(action)


@pytest.mark.parametrize("action", ["s3:CreateBucket", "s3:GetBucketLocation", "s3:PutBucketPolicy",
                                    "lambda:GetFunction", "dynamodb:DescribeTable", "dynamodb:CreateTable",
                                    "sqs:GetQueueUrl", "sqs:CreateQueue", "sns:CreateTopic", "kms:Decrypt",
                                    "secretsmanager:GetSecretValue", "ssm:GetParameter", "kinesis:DescribeStream"])
def test_management_event_actions(action):
    assert not data_event(action)


def test_a_denied_data_event_call_is_not_sent_to_cloudtrail():
    got = run(["AccessDeniedException: User is not authorized to perform s3:GetObject"])
    assert got.pattern == "iam-access-denied"
    text = _fix(got)
    assert "the CloudTrail event of the denied call names it" not in text
    assert "data event" in text and "server access logs" in text


def test_a_denied_management_event_call_keeps_the_cloudtrail_pointer():
    got = run([f"AccessDeniedException: User: {_ROLE} is not authorized to perform: sqs:GetQueueUrl"])
    assert got.pattern == "iam-access-denied"
    text = _fix(got)
    assert "the CloudTrail event of the denied call names it" in text
    assert "data event" not in text


def _python_command(finding) -> str:
    step = next(s for s in finding.remediation if "--entrypoint python" in s)
    words = shlex.split(step.split("`docker run", 1)[1].split("`", 1)[0])
    return words[words.index("-c") + 1]


def test_cannot_import_name_is_verified_with_a_from_import():
    got = run(["ImportError: cannot import name 'JobRunner' from 'core.jobs'"])
    assert got.pattern == "missing-dependency"
    assert _python_command(got) == "from core.jobs import JobRunner"


def test_a_missing_module_is_still_verified_with_an_import():
    got = run(["ModuleNotFoundError: No module named 'requests'"])
    assert _python_command(got) == "import requests"


def test_a_name_missing_from_an_installed_package_is_pinned():
    got = run(["ImportError: cannot import name 'url_quote' from 'werkzeug.urls' "
               "(/usr/local/lib/python3.11/site-packages/werkzeug/urls.py)"])
    first = got.remediation[0]
    assert "pin the release of the package that provides `werkzeug`" in first
    assert "own code" not in first


def test_a_name_missing_from_the_apps_own_module_rebuilds_from_current_code():
    got = run(["ImportError: cannot import name 'Invoice' from 'billing.models' (/srv/app/billing/models.py)"])
    first = got.remediation[0]
    assert "app's own code" in first and "Rebuild the image from the code that defines `Invoice`" in first
    assert "pin" not in first


def test_a_traceback_frame_outside_site_packages_means_own_code():
    got = run(["Traceback (most recent call last):",
               '  File "/opt/worker/main.py", line 3, in <module>',
               "    from reports.render import PdfRenderer",
               '  File "/opt/worker/reports/render.py", line 1, in <module>',
               "    from reports.fonts import Embedded",
               "ImportError: cannot import name 'Embedded' from 'reports.fonts'"])
    # The frame for reports.fonts itself is not in the log, but a frame of the importing module does not decide it.
    assert "; the log does not show its file" in got.remediation[0]
    got = run(["Traceback (most recent call last):",
               '  File "/opt/worker/reports/fonts/__init__.py", line 1, in <module>',
               "ImportError: cannot import name 'Embedded' from 'reports.fonts'"])
    assert got.remediation[0].startswith("`reports.fonts` is the app's own code")


def test_without_a_file_both_readings_are_given_in_the_order_the_name_suggests():
    own = run(["ImportError: cannot import name 'Notifier' from 'plugins.alerts'"]).remediation[0]
    assert own.index("is the app's own code") < own.index("is a third-party package")
    lib = run(["ImportError: cannot import name 'soft_unicode' from 'markupsafe'"]).remediation[0]
    assert lib.index("is a third-party package") < lib.index("is the app's own code")


_EXECUTOR = {"group": "family:etl-task", "startedBy": "etl-executor",
             "taskDefinitionArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/etl-task:7"}


def test_a_task_another_program_starts_is_not_rolled_out_by_a_run_task():
    got = run(["ImportError: cannot import name 'Notifier' from 'plugins.alerts'"], **_EXECUTOR)
    last = got.remediation[-1]
    assert "started by `etl-executor`" in last and "make that launcher start the new revision" in last
    assert last.index("to test the new revision once") < last.index("aws ecs run-task")


def test_a_person_s_one_off_is_still_rerun_with_run_task():
    got = run(["ImportError: cannot import name 'Notifier' from 'plugins.alerts'"],
              group="family:etl-task", startedBy="ops-cli",
              taskDefinitionArn="arn:aws:ecs:us-east-1:111122223333:task-definition/etl-task:7")
    last = got.remediation[-1]
    assert "launcher" not in last and "aws ecs run-task" in last


def test_a_service_task_is_still_rolled_out_with_update_service():
    got = run(["ImportError: cannot import name 'Notifier' from 'plugins.alerts'"])
    assert "aws ecs update-service" in got.remediation[-1]
