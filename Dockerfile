# The petitions server image (production: `docker compose up`, see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY projections projections
COPY api api
COPY scheduler scheduler
COPY petitions petitions
RUN pip install --no-cache-dir .
ENV PETITIONS_HOST=0.0.0.0 PETITIONS_MODE=production
EXPOSE 8000
CMD ["petitions", "serve"]
