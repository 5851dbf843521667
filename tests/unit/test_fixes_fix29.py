"""fix29: the graded faults of dev28/dev29 as general rules, each with a near miss that keeps today's answer: an nginx
upstream in an EC2 task without its own network interface, GPU memory exhaustion, a port held in host network mode,
panics in a third-party image or with the framework's own "use X instead", and exec format errors on an architecture
the event does not show."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run


def _steps(got: Any) -> str:
    return " ".join(got.remediation)


_INSTANCE = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/16c18f40065d2cf2"


# -- nginx upstream named after a container of an EC2 task with no ENI: links (bridge) or 127.0.0.1 (host) ----------

_UPSTREAM = 'nginx: [emerg] host not found in upstream "backend:9000" in /etc/nginx/conf.d/site.conf:3'


def _proxy(*names: str, **detail: Any) -> str:
    containers = [{"name": "edge", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.27"},
                  *({"name": n, "exitCode": 0, "lastStatus": "STOPPED"} for n in names)]
    base: dict[str, Any] = {"launchType": "EC2", "attachments": [], "containerInstanceArn": _INSTANCE}
    base.update(detail)
    return run({"edge": [_UPSTREAM]}, containers=containers, **base).remediation[0]


def test_an_upstream_named_after_a_container_of_an_ec2_task_without_an_eni_is_a_links_entry():
    step = _proxy("backend")
    assert '"links": ["backend"]' in step and "taskDefinition.networkMode" in step
    assert step.index("links") < step.index("127.0.0.1:9000")


def test_an_upstream_that_is_no_container_of_an_ec2_task_without_an_eni_gets_no_links_advice():
    step = _proxy("worker")
    assert "links" not in step


def test_an_upstream_named_after_a_container_in_awsvpc_stays_localhost_without_links():
    step = run({"edge": [_UPSTREAM]},
               containers=[{"name": "edge", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.27"},
                           {"name": "backend", "exitCode": 0, "lastStatus": "STOPPED"}]).remediation[0]
    assert "`127.0.0.1:9000`" in step and "links" not in step.split("works only in bridge mode")[1]


# -- GPU memory exhaustion is the GPU's memory, not the container's RAM limit -------------------------------------

_GPU_TASK: dict[str, Any] = {"launchType": "EC2", "attachments": [], "containerInstanceArn": _INSTANCE,
                             "memory": "8192", "cpu": "2048"}


def _gpu(lines: list[str], image: str = "ghcr.io/acme/trainer:2.1", **detail: Any) -> Any:
    return run({"app": lines}, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": image,
                                            "memory": "8192"}], **{**_GPU_TASK, **detail})


def test_a_torch_cuda_oom_advises_less_gpu_memory_not_more_task_memory():
    got = _gpu(["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
                "of 22.05 GiB of which 1.10 GiB is free."])
    steps = _steps(got)
    assert got.pattern == "out-of-memory" and "GPU memory" in got.remediation[0]
    assert "batch size" in got.remediation[0] and "changes nothing" in got.remediation[0]
    assert "at least" not in steps and '"memory":' not in steps
    assert "22.05 GiB" in got.summary and "--gpus all" in steps and "resourceRequirements" in steps


def test_cuda_runtime_tensorflow_and_cudnn_allocation_failures_are_gpu_memory():
    for line in ("RuntimeError: CUDA error: out of memory",
                 "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor with "
                 "shape[256,1024,1024] and type float on /job:localhost/replica:0/task:0/device:GPU:0 by allocator "
                 "GPU_0_bfc",
                 "RuntimeError: cuDNN error: CUDNN_STATUS_ALLOC_FAILED"):
        got = _gpu([line])
        assert "Out of GPU memory" in got.title, line
        assert "at least" not in _steps(got), line


def test_a_tensorflow_gpu_oom_names_allow_growth_and_a_vllm_one_its_own_flags():
    tf = _gpu(["OOM when allocating tensor with shape[64,512] on /job:localhost/replica:0/task:0/device:GPU:0"])
    assert "TF_FORCE_GPU_ALLOW_GROWTH" in tf.remediation[0]
    vllm = _gpu(["torch.OutOfMemoryError: CUDA out of memory.",
                 "Please try lowering `max_num_seqs` or `gpu_memory_utilization` when initializing the engine."],
                image="vllm/vllm-openai:v0.6.0")
    assert "--gpu-memory-utilization" in vllm.remediation[0] and "app's own advice" in vllm.remediation[0]


def test_a_host_ram_oom_kill_in_a_gpu_image_stays_the_ram_advice():
    got = run([], containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED",
                               "image": "vllm/vllm-openai:v0.6.0", "memory": "8192",
                               "reason": "OutOfMemoryError: Container killed due to memory usage"}],
              **{**_GPU_TASK, "stopCode": "EssentialContainerExited"})
    assert got.pattern == "out-of-memory" and "GPU" not in got.title
    assert "at least" in got.remediation[0] and "--gpus" not in _steps(got)


def test_a_python_memory_error_in_a_pytorch_image_stays_the_ram_advice():
    got = _gpu(["Traceback (most recent call last):", '  File "/app/train.py", line 3, in <module>', "MemoryError"],
               image="pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime")
    assert got.pattern == "out-of-memory" and "GPU" not in got.title and "--gpus" not in _steps(got)


def test_tensorflow_oom_on_a_cpu_device_is_not_called_gpu_memory():
    got = _gpu(["OOM when allocating tensor with shape[64,512] on /job:localhost/replica:0/task:0/device:CPU:0"])
    assert "GPU" not in got.title and "--gpus" not in _steps(got)


# -- port in use where the task may run in host mode: the holder is on the instance -------------------------------

_IN_USE = ["System.IO.IOException: Failed to bind to address http://0.0.0.0:7070: address already in use.",
           " ---> System.Net.Sockets.SocketException (98): Address already in use"]


def _port(containers: list[dict[str, Any]], **detail: Any) -> Any:
    return run({"media": _IN_USE}, containers=containers, **detail)


_MEDIA = {"name": "media", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/media:1.2",
          "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 7070, "hostPort": 7070, "protocol": "tcp"}]}


def test_a_lone_container_of_an_ec2_task_without_an_eni_looks_for_the_holder_on_the_instance_first():
    from tests.support.fixcheck import problems

    got = _port([_MEDIA], launchType="EC2", attachments=[], containerInstanceArn=_INSTANCE)
    assert got.pattern == "port-in-use"
    first = got.remediation[0]
    assert "aws ssm send-command" in first and "ec2InstanceId" in first and "ss -ltnp sport = :7070" in first
    steps = _steps(got)
    assert "(Why: no other container shares" not in steps and "declare port" not in steps
    assert problems(got)["commands"] == []


def test_an_ec2_task_without_an_eni_with_other_containers_still_lists_who_declares_the_port():
    got = _port([_MEDIA, {"name": "sidecar", "exitCode": 0, "lastStatus": "STOPPED"}], launchType="EC2",
                attachments=[], containerInstanceArn=_INSTANCE)
    assert "declare port 7070" in got.remediation[0] and "no other container shares" not in _steps(got)


def test_a_lone_fargate_container_keeps_the_started_twice_advice_and_no_instance_check():
    got = _port([{**_MEDIA, "networkBindings": []}])
    steps = _steps(got)
    assert "started once" in steps and "send-command" not in steps


# -- a library refusing a dropped usage and naming its replacement: a code change, not a configuration one ---------

_OWN = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:latest"


def _crash(lines: list[str], image: str = _OWN) -> Any:
    return run({"app": lines}, containers=[{"name": "app", "exitCode": 101, "lastStatus": "STOPPED", "image": image}])


def test_a_rust_panic_with_a_thread_id_that_says_use_x_instead_is_a_code_change_at_its_location():
    got = _crash(["thread 'main' (7) panicked at src/routes.rs:42:5:",
                  "Calling `route` with a wildcard is no longer supported. Use `fallback` instead.",
                  "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"])
    first = got.remediation[0]
    assert got.facts.get("language") == "rust"
    assert "`src/routes.rs:42`" in first and "`fallback`" in first and "code change" in first
    assert "update the configuration" not in first


def test_a_removed_config_key_without_a_code_location_keeps_the_configuration_advice():
    got = _crash(["Error: the key 'listen_addr' is no longer supported. Use 'bind' instead."])
    assert "code change" not in " ".join(got.remediation)


# -- a panic in the code of an image this account did not build: the command, the release, not the code ----------


def test_a_rust_panic_in_a_docker_hub_image_asks_for_the_command_or_another_release():
    got = _crash(["thread 'main' panicked at tool/src/main.rs:12:9:", "Not supported",
                  "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"],
                 image="someorg/tool:latest")
    first = got.remediation[0]
    assert not first.startswith("Fix the error") and "outside this account" in first
    assert "`command`" in first and "another release" in first and "`tool/src/main.rs:12`" in first


def test_the_same_panic_in_an_image_of_the_accounts_own_ecr_is_still_fixed_in_its_code():
    got = _crash(["thread 'main' panicked at tool/src/main.rs:12:9:", "Not supported"])
    assert "outside this account" not in got.remediation[0]


def test_an_ordinary_exception_in_a_docker_hub_image_is_not_called_a_crash_in_its_code():
    got = run({"app": ["Traceback (most recent call last):", '  File "/srv/app.py", line 3, in <module>',
                       "    load()", "KeyError: 'tenant'"]},
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "someorg/tool:1.2"}])
    assert "outside this account" not in " ".join(got.remediation)


def test_dockers_userland_proxy_failing_to_publish_a_host_port_is_the_instances_port():
    got = run([], stopCode="EssentialContainerExited", launchType="EC2", attachments=[],
              containerInstanceArn=_INSTANCE,
              containers=[{"name": "web", "lastStatus": "STOPPED", "image": "example/web:1",
                           "reason": "CannotStartContainerError: Error response from daemon: driver failed programming "
                                     "external connectivity on endpoint web (ab12): Error starting userland proxy: "
                                     "listen tcp4 0.0.0.0:8080: bind: address already in use"}])
    assert got.pattern == "port-in-use" and "host port 8080 on the container instance" in got.remediation[0]
    assert "started once" not in _steps(got)


# -- exec format error: no architecture the event does not show ---------------------------------------------------

_EXEC = ["exec /usr/local/bin/server: exec format error"]
_OWN_IMG = "111122223333.dkr.ecr.us-east-1.amazonaws.com/ws:1.0"


def test_an_exec_format_error_on_fargate_without_runtime_platform_asserts_no_architecture():
    got = run({"app": _EXEC}, containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED", "image": _OWN_IMG}])
    assert got.pattern == "container-start-failed" and "cpu_architecture" not in got.facts
    steps = _steps(got)
    assert "taskDefinition.runtimePlatform" in got.remediation[0] and "does not show" in got.remediation[0]
    assert "--platform linux/amd64" in steps and "--platform linux/arm64" in steps
    assert "Fargate default" not in steps


def test_an_exec_format_error_on_a_graviton_task_still_names_arm64():
    got = run({"app": _EXEC}, attributes=[{"name": "ecs.cpu-architecture", "value": "arm64"}],
              containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED", "image": _OWN_IMG}])
    assert got.facts.get("cpu_architecture") == "arm64"
    assert "linux/arm64" in _steps(got) and "does not show" not in _steps(got)
