"""Runs: the content-addressed run store, sweep specifications, and the executors that train sweeps into the store."""
