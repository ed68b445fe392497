# Tongban gateway image. The SM2 addon is compiled against the OpenSSL inside the node
# binary of the same image, so build and run stages share one base.
FROM node:20.20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# npm ci builds the native addon (install) and dist/ (prepare: the TypeScript compiled, with the
# schemas, migrations, stylesheet and addon beside it); then the dev dependencies go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# The final stage: the compiled gateway and its production dependencies only (no TypeScript,
# no tsx, no test runner, no sources).
FROM node:20.20-bookworm-slim
ENV NODE_ENV=production TONGBAN_HOST=0.0.0.0 TONGBAN_PORT=8443
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
USER node
EXPOSE 8443
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.TONGBAN_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Configuration comes from TONGBAN_* variables or --config (docs/configuration.md); mount the
# keys and the participant directory, never bake them into the image.
ENTRYPOINT ["node", "bin/tongban.js"]
CMD ["serve"]
