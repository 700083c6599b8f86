# One image for every service; the command picks the service:
#   docker run novatrade-webhooks node services/router/dist/main.js
# Built and run by deploy/compose.yaml; Kubernetes uses the same image (deploy/k8s/).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
# kafkajs is patched at install (postinstall: patch-package), so the patches come before npm ci.
COPY patches patches
COPY packages packages
COPY services services
COPY schemas schemas
# Workspace manifests first would cache better; the monorepo is small enough to copy whole.
RUN npm ci --no-audit --no-fund && npx tsc -b packages/*/tsconfig.json services/*/tsconfig.json \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf packages/*/src services/*/src packages/*/dist/**/*.test.* services/*/dist/**/*.test.*

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    ROUTER_OPS_HOST=0.0.0.0 SENDER_OPS_HOST=0.0.0.0 PROJECTOR_OPS_HOST=0.0.0.0 ADMIN_OPS_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app /app
USER node
# Services stop cleanly on SIGTERM within 30 s (orchestrators: terminationGracePeriodSeconds >= 35).
STOPSIGNAL SIGTERM
CMD ["node", "services/router/dist/main.js"]
