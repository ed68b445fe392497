# Tongban gateway image. The SM2 addon is compiled against the OpenSSL inside the node
# binary of the same image, so build and run stages share one base.
FROM node:20.20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY src/crypto/sm/native ./src/crypto/sm/native
# Dev dependencies (tsx) stay: the gateway runs its TypeScript sources through tsx.
RUN npm ci --no-audit --no-fund
COPY . .

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production TONGBAN_HOST=0.0.0.0 TONGBAN_PORT=8443
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 8443
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.TONGBAN_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Configuration comes from TONGBAN_* variables or --config (docs/configuration.md); mount the
# keys and the participant directory, never bake them into the image.
ENTRYPOINT ["node", "bin/tongban.js"]
CMD ["serve"]
