"""scorer: normalized deployments — AI-assisted changes that shipped and stayed shipped."""

__version__ = "0.1.0"
