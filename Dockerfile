# syntax=docker/dockerfile:1
# tierbot production image. Build: docker build -t tierbot .   Run: see docker-compose.yml.
# TypeScript runs through tsx (a runtime dependency), so there is no compile step.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    TIERBOT_CONFIG_DIR=/app/config
WORKDIR /app
# Owned by root and read-only for the app user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY cards ./cards
COPY config ./config
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# main.ts handles SIGTERM/SIGINT itself (graceful stop), so node can be PID 1.
CMD ["node", "--max-old-space-size=8192", "--max-semi-space-size=64", "--import", "tsx", "src/main.ts"]
