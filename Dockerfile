# Builds the single binary on a Node LTS image, then ships it alone on a slim base as a fixed, unprivileged user.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Only what the build needs: the runtime dependencies (bundled into the binary; none has an install script) and
# Bun itself at the lockfile's version. No test tools, no inspector, no browsers.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install --global --no-audit --no-fund "bun@$(node -p 'require("./package-lock.json").packages["node_modules/bun"].version')"
COPY tsconfig.json ./
COPY src ./src
COPY skills ./skills
# The build runs its first binary once (serve, mcp, keys create) to lay the second one's bytecode out: scripts/build.ts.
COPY scripts ./scripts
RUN npm run build

FROM debian:bookworm-slim
# A fixed UID/GID, so a bind-mounted host folder can be chowned to match (chown -R 10001:10001 ./data).
# The data dir exists, owned by that user and 0700, before VOLUME: a fresh named volume copies both from the image
# (otherwise it is root-owned and the server cannot write to it).
RUN groupadd --system --gid 10001 clanker \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/clanker --no-create-home --shell /usr/sbin/nologin clanker \
 && mkdir -p /var/lib/clanker/data \
 && chown -R 10001:10001 /var/lib/clanker \
 && chmod 0700 /var/lib/clanker/data
COPY --from=build /src/dist/clanker /usr/local/bin/clanker
USER 10001:10001
WORKDIR /var/lib/clanker
# Docker sends SIGKILL 10 s after SIGTERM unless told otherwise: drain within that (raise both together,
# e.g. CLANKER_SHUTDOWN_GRACE_SECONDS=30 with docker stop -t 40).
ENV HOST=0.0.0.0 PORT=4377 CLANKER_DATA_DIR=/var/lib/clanker/data CLANKER_SHUTDOWN_GRACE_SECONDS=8
EXPOSE 4377
VOLUME ["/var/lib/clanker/data"]
# The image has no curl: `clanker health` GETs /healthz on HOST/PORT (127.0.0.1 for 0.0.0.0) and exits 0 or 1.
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 CMD ["clanker", "health"]
ENTRYPOINT ["clanker"]
CMD ["serve"]
