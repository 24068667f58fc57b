# syntax=docker/dockerfile:1
# One image for every service (Online Boutique style): TypeScript runs through tsx, so there is no
# build step. The entrypoint picks the service by its path:
#   docker run llmgw services/edge/main.ts        (k8s `args`, compose `command`)
#   docker run llmgw                              (embedded mode: the whole gateway in one process)

# --- deps: production node_modules only (tsx is a runtime dependency) ---
# Uses the image's own npm (10.x). npm 11 refuses this lock file today because it lacks other
# platforms' optional rollup/buf entries (npm/cli#4828); npm 10 accepts it.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    LLMGW_DATA_DIR=/app/data
WORKDIR /app
# Code stays root-owned and read-only to the process; only ./data and /tmp (tsx's cache) are written.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY libs ./libs
COPY services ./services
COPY deploy/config ./deploy/config
RUN mkdir -p /app/data && chown node:node /app/data
# `node` is uid/gid 1000 in the official image; the k8s manifests run as 1000 too.
USER node
EXPOSE 8080
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["services/embedded/main.ts"]
