"""Darkroom's fault suite: ``make faults`` (``python -m faults``).

It starts the real stack as a team server runs it (``bench.stack``, layout
"team": PostgreSQL, Redis, the S3-compatible server, the OpenRouter emulator,
uvicorn with 2 workers, a generation worker, a default-queue worker and celery
beat, production settings), replays each fault scenario (``faults.scenarios``)
against it, and prints per scenario what happened to the jobs and the money
(``faults.tally``), then a verdict against issue 15's goals. The exit code is
0 only when every scenario meets them (``--report-only``: always 0).
"""
