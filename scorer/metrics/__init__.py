"""The metric and its report (METRIC.md sections 7-9), one module per quantity: the period,
normalized deployments (``normalized``), the per-agent split, DORA, the weekly trend, the
changes and deploys listed, the signals; ``report`` assembles them. Pure functions of the
outcomes."""
