"""ecs-autopsy core: event models, evidence, patterns, engine, renderers, delivery."""

__version__ = "0.1.0"
