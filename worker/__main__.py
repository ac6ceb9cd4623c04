from worker.cli import main

main(prog_name="python -m worker")
