# Production-shaped image for docker-compose.yml. It installs the runtime lock only (requirements.lock):
# no test or development tools, no embedded servers, and only prebuilt wheels, so no compiler either.
# tests/ops/test_compose.py checks all three.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --require-hashes --only-binary=:all: -r requirements.lock
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --home /app tracker && chown -R tracker /app
USER tracker
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
