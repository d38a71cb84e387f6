"""Darkroom's benchmarks: ``make bench`` (``python -m bench``) prints their figures.

Each scenario starts the real stack on this machine (PostgreSQL, Redis, the
S3-compatible server, the OpenRouter emulator, uvicorn and one Celery worker
process; see ``bench.stack``), drives it only through its public interfaces,
measures, prints, and stops everything it started. Speed is measured here, not
by timed tests.
"""
