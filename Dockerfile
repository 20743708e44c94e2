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
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: compiled JavaScript plus production node_modules only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which Node needs to load dist/ as ES modules.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 6379: RESP clients; 16379: cluster bus (client port + 10000).
EXPOSE 6379 16379
# Node runs as PID 1 and so gets no default SIGTERM handling; the server's own signal
# handler is what makes `docker stop` a clean shutdown (or run with `docker run --init`).
CMD ["node", "dist/src/cli.js", "server", "--port", "6379", "--bind", "0.0.0.0", "--dir", "/data"]
