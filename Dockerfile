# syntax=docker/dockerfile:1
# One image for every service (Online Boutique style). The TypeScript is bundled per entry point at
# build time (`npm run build`, esbuild) and runs as plain JavaScript. The entrypoint picks the
# service by its source path:
#   docker run llmgw services/edge/main.ts        (k8s `args`, compose `command`)
#   docker run llmgw                              (embedded mode: the whole gateway in one process)

# --- build: every dependency, then the bundles in dist/ ---
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY libs ./libs
COPY services ./services
RUN npm run build

# --- deps: production node_modules only ---
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM node:20-slim AS runtime
# MALLOC_TRIM_THRESHOLD_: glibc's fixed thresholds instead of its dynamic ones (bin/heap-policy.mjs).
ENV NODE_ENV=production \
    LLMGW_DATA_DIR=/app/data \
    MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
# Code stays root-owned and read-only to the process; only ./data is written.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Files the code reads at run time beside the bundles (found from the project root).
COPY services/classifier/models ./services/classifier/models
COPY services/ledger/migrations ./services/ledger/migrations
COPY services/router/migrations ./services/router/migrations
COPY services/evaluator/migrations ./services/evaluator/migrations
COPY services/edge/dashboard ./services/edge/dashboard
COPY services/cache/domain/verifier/weights.json ./services/cache/domain/verifier/weights.json
COPY deploy/config ./deploy/config
RUN mkdir -p /app/data && chown node:node /app/data
# `node` is uid/gid 1000 in the official image; the k8s manifests run as 1000 too.
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/llmgw.mjs"]
CMD ["services/embedded/main.ts"]
