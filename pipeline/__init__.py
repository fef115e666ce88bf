"""Assembling, configuring and running the provsieve Beam pipeline (and its CLI)."""
