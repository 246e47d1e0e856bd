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
# `mlautoscale operator`; the chart passes `operator` and its flags as arguments. A young generation of
# at most 4 MiB per semi-space (V8's default grows to 16 MiB while a roll-out allocates fast) and V8's
# memory-over-speed mode: at 1,000 policies the operator held 93 MiB instead of 138 MiB
# (docs/benchmarks.md; the benchmarks read these flags from here).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=4", "--optimize-for-size", "/app/dist/cli.js"]
CMD ["operator"]
