"""`python -m kasal`: how `kasal dev` starts its children with the same interpreter."""

from kasal.cli import app

app(prog_name="kasal")
