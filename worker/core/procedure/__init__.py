"""The procedure's parts; `worker.core.engine.decide` plays them in order."""
