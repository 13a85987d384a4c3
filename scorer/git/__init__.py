"""Every git process scorer starts: the streaming log of the history (``log``), the batch
diffs that decide whether a change is substantive (``diffs``, with the ``exclude_paths``
globs of ``paths``). Nothing else runs git, except the ``tags`` deploy source."""
