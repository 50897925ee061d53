# The bundlestream image docker-compose.yml runs as api, worker, topics and miner.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml ./
COPY core core
COPY adapters adapters
COPY api api
COPY streams streams
COPY projections projections
COPY schemas schemas
COPY bundlestream bundlestream
RUN pip install --no-cache-dir .
ENTRYPOINT ["bundlestream"]
