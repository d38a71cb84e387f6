"""Django's PostgreSQL backend, answering at once while the server is down (see base.py)."""
