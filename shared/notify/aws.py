"""boto3 clients for delivery, built once per warm container with bounded retries and timeouts.

boto3 is imported here, on first use, so that importing shared.notify stays cheap.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from shared.warm import on_reset


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
    return boto3.client(service, config=config)


on_reset(client.cache_clear, "shared.notify.aws.client")
