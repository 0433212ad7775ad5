# syntax=docker/dockerfile:1
# rennet: build with the full toolchain, run on Node 24 slim with production
# dependencies only, as a non-root user.

FROM node:24-slim AS build
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.json tsconfig.base.json ./
COPY packages/router/package.json packages/router/
COPY packages/k8s-sync/package.json packages/k8s-sync/
COPY packages/node-edge/package.json packages/node-edge/
RUN npx --yes pnpm@12.21.0 install --frozen-lockfile --ignore-scripts
COPY packages packages
RUN npx --yes pnpm@12.21.0 -r run build \
 && npx --yes pnpm@12.21.0 --filter @rennet/node-edge deploy --prod --legacy /out

FROM node:24-slim
# Bind 80 and 443 without root: give node the one capability it needs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep "$(command -v node)" \
 && apt-get purge -y libcap2-bin && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 rennet && useradd --system --uid 10001 --gid rennet --no-create-home rennet
WORKDIR /app
COPY --from=build /out /app
USER 10001:10001
ENV NODE_ENV=production
EXPOSE 80 443 8080
ENTRYPOINT ["node", "--max-semi-space-size=16", "/app/bin/rennet.mjs"]
CMD ["serve", "--http-port=80", "--https-port=443", "--admin-port=8080"]
