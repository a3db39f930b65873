# One image for web, worker, beat and the sandbox (docker-compose.yml picks the command).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=zoomadmin.settings \
    ZOOMADMIN_VAR_DIR=/app/var

WORKDIR /app
RUN groupadd --system app && useradd --system --gid app --home /app app

COPY pyproject.toml requirements.lock README.md ./
COPY zoomadmin ./zoomadmin
RUN pip install -c requirements.lock .

COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic needs settings to load; these throwaway values never reach a running container.
RUN SECRET_KEY=build-only FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1rZXktMzItYnl0ZXMtbG9uZy0hISE= \
    REDIS_URL=redis://unused:6379/0 python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var && chown app:app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "python:zoomadmin.gunicorn", "zoomadmin.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
