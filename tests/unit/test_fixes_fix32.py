"""fix32: dev31's advice faults as general rules, each with a near miss that keeps today's answer: a configuration
error whose neighbouring line names what in the file is wrong (a section lacking a property, a file and line) is
about that content, not the file's presence; a local reproduction of a container that runs on a GPU passes
`--gpus all`; a dotted exception name followed by JVM frames is a JVM error, not a Python one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared import remediation as remedy
from shared.engine import diagnose
from shared.evidence.ecs import _container
from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
from tests.unit.helpers import evidence, run

# -- a configuration error that names its section, property or line is about the file's content ----------------------

_ROUTER = "111122223333.dkr.ecr.us-east-1.amazonaws.com/fluent-bit-router:3.1.4"
_ABORT = "[2024/05/01 10:00:00] [error] configuration file contains errors, aborting."


def _router(lines: list[str], image: str = _ROUTER) -> Any:
    return run({"log_router": lines},
               containers=[{"name": "log_router", "exitCode": 1, "lastStatus": "STOPPED", "image": image},
                           {"name": "app", "exitCode": 143, "lastStatus": "STOPPED",
                            "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"}])


def test_a_plugin_section_without_its_name_is_a_step_about_that_section_not_the_files_presence():
    step = _router(["[2024/05/01 10:00:00] [error] [config] section 'filter' is missing the 'name' property",
                    _ABORT]).remediation[0]
    assert "`filter` section has no `name`" in step and "[OUTPUT]" in step and "`Name`" in step
    assert "COPY" not in step and "includes files that are missing" not in step


def test_a_section_this_fluent_bit_does_not_know_is_a_version_mismatch_not_a_missing_name():
    step = _router(["[2024/05/01 10:00:00] [error] [config] section 'pipeline' is missing the 'name' property",
                    _ABORT]).remediation[0]
    assert "does not know the `pipeline` section" in step and "pin the image" in step
    assert "add `name`" not in step


def test_a_config_error_naming_a_file_and_line_is_about_that_line():
    step = _router(["[2024/05/01 10:00:00] [error] [config] error in /fluent-bit/etc/extra.conf:7: invalid "
                    "indentation level", _ABORT]).remediation[0]
    assert "line 7 of `/fluent-bit/etc/extra.conf`" in step and "COPY" not in step


def test_a_parser_that_names_the_format_it_expected_says_to_write_the_file_in_it():
    step = _router(["[2024/05/01 10:00:00] [error] [config] error in /fluent-bit/etc/extra.conf:1: undefined value "
                    "- check config is in valid classic format"]).remediation[0]
    assert "classic format" in step and "line 1" in step


def test_near_miss_a_config_file_or_include_that_could_not_be_opened_keeps_the_presence_check():
    step = _router(["[2024/05/01 10:00:00] [error] [config] could not open configuration file "
                    "/fluent-bit/etc/parsers_extra.conf", _ABORT]).remediation[0]
    # acc24 makes the "could not open" line the error, whose own step is the file's presence (image or volume)
    assert "the configuration file was read" not in step
    assert "not there" in step and "COPY" in step and "mountPoints" in step


def test_near_miss_a_bare_config_error_with_no_detail_keeps_the_generic_step():
    step = _router([_ABORT]).remediation[0]
    assert "invalid or includes files that are missing" in step


def test_a_section_lacking_a_property_in_another_program_gets_no_fluent_bit_advice():
    action = remedy.config_detail("error: section [upstream] is missing required key 'address'",
                                  "ghcr.io/acme/router:1.0")
    assert action and "`upstream` section has no `address`" in action and "Fluent Bit" not in action


def test_near_miss_a_file_and_line_in_a_line_that_is_no_error_is_not_a_config_fault():
    assert remedy.config_detail("loaded settings from /etc/app/app.conf:12", None) is None
    assert remedy.config_detail("could not open /etc/app/app.conf:12: no such file or directory", None) is None


# -- a container that runs on a GPU is reproduced with --gpus all ---------------------------------------------------

_GPU_BASE: dict[str, Any] = {"launchType": "EC2", "attachments": [],
                             "containerInstanceArn": "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/1a2b"}
_SERVER = "ghcr.io/acme/inference:2.0"


def _server(lines: list[str], **container: Any) -> Any:
    c = {"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _SERVER, **container}
    return evidence({"app": lines}, containers=[c], **_GPU_BASE)


def _repro(ev: Any) -> str:
    return next((s for s in diagnose(ev).remediation if "docker run" in s), "")


_CRASH = ["Traceback (most recent call last):", '  File "/srv/main.py", line 4, in <module>',
          "ValueError: model repository is empty"]


def test_a_container_ecs_gave_gpus_is_reproduced_with_gpus_all():
    step = _repro(_server(_CRASH, gpuIds=["GPU-0a1b2c3d"]))
    assert "docker run --rm --env-file task.env --gpus all" in step and "NVIDIA Container Toolkit" in step


def test_a_gpu_in_the_task_definition_or_a_cuda_log_line_is_reproduced_with_gpus_all():
    ev = _server(_CRASH)
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12",
                             containers=(ContainerDefinition(name="app", image=_SERVER, gpus=1),))
    assert "--gpus all" in _repro(replace(ev, task_definition=td))
    assert "--gpus all" in _repro(_server(["CUDA driver version 12.2, 1 device(s) found", *_CRASH]))


def test_near_miss_no_gpu_evidence_or_a_log_saying_there_is_no_gpu_gets_no_gpus_flag():
    assert "docker run" in _repro(_server(_CRASH)) and "--gpus" not in _repro(_server(_CRASH))
    step = _repro(_server(["WARNING: The NVIDIA Driver was not detected. GPU functionality will not be available.",
                           *_CRASH]))
    assert "docker run" in step and "--gpus" not in step


def test_near_miss_a_sidecars_gpu_line_does_not_make_the_app_a_gpu_container():
    ev = evidence({"app": _CRASH, "agent": ["check:nvml | NVML initialized, 1 GPU"]},
                  containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _SERVER},
                              {"name": "agent", "exitCode": 0, "lastStatus": "STOPPED", "image": "acme/agent:7"}],
                  **_GPU_BASE)
    assert not remedy.uses_gpu(ev, "app") and remedy.uses_gpu(ev, "agent")


def test_a_gpu_instance_type_is_a_gpu_but_an_amd_one_is_not():
    for kind, gpu in (("g5.xlarge", True), ("p4d.24xlarge", True), ("g4ad.xlarge", False), ("m5.large", False)):
        ev = evidence({"app": _CRASH}, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                                                    "image": _SERVER}],
                      attributes=[{"name": "ecs.instance-type", "value": kind}], **_GPU_BASE)
        assert remedy.uses_gpu(ev, "app") is gpu, kind


def test_resource_requirements_gpu_is_read_from_the_task_definition():
    assert _container({"name": "app", "resourceRequirements": [{"type": "GPU", "value": "2"}]}).gpus == 2
    assert _container({"name": "app", "resourceRequirements": [{"type": "InferenceAccelerator",
                                                                 "value": "dev1"}]}).gpus == 0


# -- a dotted exception name with JVM frames after it is a JVM error -----------------------------------------------

def _lang(lines: list[str]) -> Any:
    return run({"app": lines}).facts.get("language")


def test_a_dotted_exception_followed_by_scala_or_java_frames_is_java():
    assert _lang(["kafka.common.SomeStateException: stored id does not match",
                  "\tat kafka.server.Server.startup(Server.scala:252)",
                  "\tat kafka.Main.main(Main.scala)"]) == "java"
    assert _lang(["acme.billing.LedgerError: ledger closed",
                  "\tat acme.billing.Ledger.open(Ledger.java:40)"]) == "java"


def test_near_miss_a_dotted_exception_without_jvm_frames_stays_python():
    assert _lang(["acme.billing.LedgerError: ledger closed"]) == "python"
    assert _lang(["acme.billing.LedgerError: ledger closed", "  at the end of the run"]) == "python"


# -- a stored cluster or node id that does not match: the data volume holds another cluster's state -----------------

def test_a_stored_cluster_id_that_does_not_match_is_a_volume_with_another_clusters_state():
    step = run({"app": ["org.acme.StateException: The cluster id abc does not match the stored cluster id def",
                        "\tat org.acme.Node.start(Node.java:12)"]}).remediation[0]
    assert "another cluster's state" in step and "fresh volume" in step
    assert remedy.error_family("Invalid cluster.id in: /data/state.properties. Expected abc, but read def")


def test_near_miss_a_peer_or_request_id_mismatch_names_nothing_stored():
    for line in ("rafthttp: request cluster ID mismatch (got 1a2b want 3c4d)",
                 "INFO cluster id = abc, stored in the coordinator"):
        assert "another cluster's state" not in (remedy.error_family(line) or ""), line
