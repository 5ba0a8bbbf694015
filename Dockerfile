# Builds the single binary, then ships it alone on a slim base.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM debian:bookworm-slim
RUN useradd --system --create-home --home-dir /var/lib/clanker clanker
COPY --from=build /src/dist/clanker /usr/local/bin/clanker
USER clanker
WORKDIR /var/lib/clanker
ENV HOST=0.0.0.0 PORT=4377 CLANKER_DATA_DIR=/var/lib/clanker/data
EXPOSE 4377
VOLUME ["/var/lib/clanker/data"]
ENTRYPOINT ["clanker"]
CMD ["serve"]
