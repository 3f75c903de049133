"""``python -m loganalyzer``: the same CLI as the ``loganalyzer`` console script."""

from loganalyzer.cli import app

app()
