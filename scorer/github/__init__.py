"""GitHub Actions: the runner's outputs, summary and workflow commands (``actions``) and the
pull-request comment (``comment``). HTTP goes through ``scorer.rest``."""
