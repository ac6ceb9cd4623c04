"""`python -m worker.sandbox`: the same as `python -m worker sandbox`."""

from worker.sandbox.cli import sandbox_command

sandbox_command(prog_name="python -m worker.sandbox")
