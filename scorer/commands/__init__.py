"""The subcommands, one module each (``add_arguments`` and ``run``): the thin edge between
the command line and the pipeline. Their one-line help is ``scorer.cli.COMMANDS``."""
