from scorer.cli import run

run()
