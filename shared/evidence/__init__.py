"""Evidence about a stopped task. `model` holds the pure data; gatherers read AWS."""

from shared.evidence.model import Evidence

__all__ = ["Evidence"]
