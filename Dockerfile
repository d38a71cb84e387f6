# One image for web, workers and beat (docker-compose.yml picks the command).
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# The locked dependencies first (their layer survives code changes), then the app.
COPY requirements/base.txt requirements/base.txt
RUN pip install --upgrade pip && pip install --require-hashes -r requirements/base.txt
COPY pyproject.toml README.md ./
COPY webapp webapp
COPY generation generation
COPY catalog catalog
COPY gallery gallery
COPY costs costs
COPY emulator emulator
RUN pip install --no-deps .

COPY manage.py ./
COPY templates templates
COPY static static
# collectstatic needs settings but no secrets or services.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input

RUN useradd --system --uid 10001 darkroom
USER darkroom
EXPOSE 8000
CMD ["uvicorn", "webapp.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--timeout-graceful-shutdown", "10"]
