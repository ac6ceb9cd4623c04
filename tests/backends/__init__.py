"""The procedure's world on real helpdesk adapters (see `tests/world.py`, `WORLD_BACKEND`)."""
