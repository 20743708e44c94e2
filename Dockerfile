# syntax=docker/dockerfile:1

# Build stage: full dependency set for tsc, then pruned to what the server needs at run time.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Lock files alone first, so the dependency layer is reused across source-only changes.
# lmdb, xxhash-addon and msgpackr-extract ship glibc prebuilds for x64 and arm64,
# so no compiler toolchain is needed here.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: compiled JavaScript plus production node_modules only. The server runs from the
# bundle (dist/bundle, one file that starts faster); the health check and preStop scripts from dist/src.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which Node needs to load dist/ as ES modules.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/bundle ./dist/bundle
# The server runs as the image's unprivileged `node` user (uid 1000), owning only /data. A volume
# mounted from the host must be writable by uid 1000; otherwise start-up stops with one line
# saying so. The data directory is locked: a second container on the same volume is refused.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 6379: RESP clients; 16379: cluster bus (client port + 10000).
EXPOSE 6379 16379
# Settings come from RINGKV_<NAME> variables. The node listens on every interface of the container,
# and protected mode stays on (as in Redis): until RINGKV_REQUIREPASS is set, only clients inside
# the container are served and everyone else gets -DENIED. Set a password (docker run -e
# RINGKV_REQUIREPASS=…); RINGKV_PROTECTED_MODE=no lifts the protection on a trusted network only.
ENV RINGKV_PORT=6379 RINGKV_BIND=0.0.0.0 RINGKV_DIR=/data
# PING over loopback (always allowed), AUTH first when RINGKV_REQUIREPASS is set. It reads the port
# from RINGKV_PORT: change the port with -e RINGKV_PORT=…, not --port, so the check follows.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "dist/src/tools/healthcheck.js"]
# Node runs as PID 1 and so gets no default SIGTERM handling; the server's own signal
# handler is what makes `docker stop` a clean shutdown (or run with `docker run --init`).
CMD ["node", "dist/bundle/ringkv.js", "server"]
