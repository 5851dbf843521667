"""CDK app of ecs-autopsy: the reusable EcsAutopsy construct, its stacks and configuration."""

from infra.autopsy import EcsAutopsy
from infra.config import AutopsyConfig, ConfigError
from infra.hub import EcsAutopsyMember, HubBusPolicy

__all__ = ["AutopsyConfig", "ConfigError", "EcsAutopsy", "EcsAutopsyMember", "HubBusPolicy"]
