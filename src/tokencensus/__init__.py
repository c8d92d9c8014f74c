"""tokencensus: turn LLM-gateway request logs into a State-of-AI study."""

__version__ = "0.1.0"
