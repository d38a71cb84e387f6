"""Generation jobs: forms, views, Celery tasks, the OpenRouter client, image handling, storage."""
