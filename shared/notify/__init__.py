"""Delivery of findings: SNS (every task), Slack and Chatbot (noise-controlled), state in DynamoDB.

    from shared.notify import deliver, from_settings, state_from_settings
    result = deliver(finding, from_settings(settings), state_from_settings(settings), settings)

A delivery that succeeds costs one DynamoDB UpdateItem (none when no human channel may post) and
one SNS Publish. To count the calls with the rest of the pipeline, pass clients of one
`shared.aws.Clients`: `from_settings(settings, sns_client=clients("sns"))`,
`state_from_settings(settings, clients("dynamodb"))`.

Slack has two modes, chosen by what its secret holds (secrets.py): an incoming webhook, or a Slack
app's bot token (slack_app.py: one thread per incident, a live count, a "recovered" reply; thread
state in threads.py; routing by ECS tags in routing.py).

Importing this package loads no AWS or Slack SDK; they load on first send.
"""

from __future__ import annotations

import logging

from shared.notify.channels import Channel, ChatbotChannel, SlackChannel, SnsChannel, from_settings
from shared.notify.delivery import ChannelOutcome, DeliveryError, DeliveryResult, deliver, delivery_id
from shared.notify.noise import Decision
from shared.notify.state import DynamoState, MemoryState, State, StateError
from shared.settings import Settings
from shared.warm import on_reset

__all__ = [
    "Channel", "ChannelOutcome", "ChatbotChannel", "Decision", "DeliveryError", "DeliveryResult", "DynamoState",
    "MemoryState", "SlackChannel", "SnsChannel", "State", "StateError", "deliver", "delivery_id", "from_settings",
    "state_from_settings",
]

_memory: MemoryState | None = None


@on_reset
def forget_memory_state() -> None:
    global _memory
    _memory = None


def state_from_settings(settings: Settings, client: object = None) -> State:
    """The state table when configured; otherwise process memory (noise control per warm container only)."""
    global _memory
    if settings.table_name:
        return DynamoState(settings.table_name, client)
    if _memory is None:
        logging.getLogger(__name__).warning(
            "ECS_AUTOPSY_TABLE_NAME is not set: retries may re-send and noise control is per container only")
        _memory = MemoryState()
    return _memory
