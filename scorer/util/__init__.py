"""Small tools with no opinion about the metric: atomic file writes, instants and durations,
plain records, SHA-256, safe one-line text, background threads."""
