"""`python -m cli` is `m3`."""
from cli.main import app

app(prog_name="m3")
