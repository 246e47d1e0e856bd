# syntax=docker/dockerfile:1
# The operator image: built with Node 20, run on distroless Node 20 as a non-root user, with production
# dependencies only. test/integration/image.test.ts runs the same steps without a container engine.

# 1. Compile, and pack exactly what `npm publish` would ship (package.json "files": dist, crds).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY crds ./crds
RUN npm run build && npm pack --pack-destination /tmp && mkdir /app \
    && tar -xzf /tmp/mlautoscale-*.tgz -C /app --strip-components=1

# 2. Install the production dependencies of the packed package from the lockfile.
FROM node:20-bookworm-slim AS runtime-deps
WORKDIR /app
COPY --from=build /app ./
COPY package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Only Node and the files above: no shell, no package manager. The files stay owned by root: the
#    operator reads them and cannot change them.
FROM gcr.io/distroless/nodejs20-debian12:nonroot
LABEL org.opencontainers.image.title="mlautoscale" \
      org.opencontainers.image.description="Kubernetes operator that autoscales ML workloads from one MLAutoscalePolicy" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
COPY --from=runtime-deps /app ./
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 8080
# `mlautoscale operator`; the chart passes `operator` and its flags as arguments.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli.js"]
CMD ["operator"]
