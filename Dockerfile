# The assistant's one image: the Rasa server, the action server, the agents' console and the
# jobs all run from it (deploy/k8s gives each its command). It is NOT built or tested on the
# development machine (no Docker there); build it where Docker / BuildKit runs, from the root:
#   docker build -t ccr.ccs.tencentyun.com/example-team/icp-assistant:2026.12.01-1 .
# It installs the pinned runtime lock as `make install` does, and trains the model during the
# build unless models/ already holds one whose fingerprint matches (scripts/train_if_needed.py),
# so every pod of a tag answers with the same model and none trains or downloads at start.

# -- the virtualenv (compilers only here, for any pinned package without a wheel) ------------------
FROM python:3.10-slim-bookworm AS venv
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/lock.txt /tmp/lock.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --quiet pip==24.0 \
 && /opt/venv/bin/python -m pip install --quiet -r /tmp/lock.txt

# -- the console's browser package (Apache ECharts, pinned in package-lock.json; no scripts run) ------
FROM node:20-bookworm-slim AS npm
WORKDIR /npm
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# -- the image --------------------------------------------------------------------------------------
FROM python:3.10-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONHASHSEED=0 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    BOT_VAR_DIR=/app/var
RUN groupadd --gid 10001 assistant && useradd --uid 10001 --gid 10001 --create-home assistant
COPY --from=venv /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# Only the one file the console serves (bot/console/dashboard.py), not the whole node_modules.
COPY --from=npm /npm/node_modules/echarts/dist/echarts.min.js /app/node_modules/echarts/dist/echarts.min.js
# The model: trained here when models/ has none for these inputs (about 5 minutes on 2 cores).
RUN python scripts/train_if_needed.py \
 && rm -rf .rasa results \
 && mkdir -p var && chown assistant:assistant var
USER 10001
EXPOSE 5005 5055 5080
# deploy/k8s sets the command of each Deployment; alone, the image runs the Rasa server
# (it needs RASA_API_TOKEN, ACTION_SERVER_TOKEN and the store URLs in the environment).
CMD ["python", "-m", "bot.server", "--model", "models", "--enable-api", "--endpoints", "endpoints.yml", \
     "--credentials", "credentials.yml", "--port", "5005"]
