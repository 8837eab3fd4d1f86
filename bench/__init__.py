"""Kith benchmark harness (not part of the test suite): `make bench` / `bench/run.sh` / `python -m bench`."""
