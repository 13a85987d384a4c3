"""The speed machinery behind ``--cache``: a warm run reads only the new commits and decides
again only what can have changed. ``session.Session`` is the pipeline's accelerator; the
cache files (``cache``), their columns (``columns``, ``eventstore``), carrying outcomes
forward (``advance``) and the digest of the rules they were decided by (``rules``) live here
and nowhere else: no rule module imports this package."""
