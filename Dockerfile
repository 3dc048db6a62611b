# edgesim in a container: the agent, the embedded controller, the k3s stand-in and the demo.
# Build:  docker build -t edgesim .
# Run:    docker run --rm -it --cap-add NET_ADMIN edgesim demo
#         docker run --rm -v $PWD/dev1:/var/lib/edgesim edgesim agent --config-dir /var/lib/edgesim/config --state-dir /var/lib/edgesim/state
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY scripts/build-ui.mjs ./scripts/
# tsc, then the dashboard bundle (dist/src/controller/ui-assets).
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends swtpm swtpm-tools tpm2-tools etcd-server iproute2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/edgesim
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/proto ./proto
COPY bin ./bin
ENTRYPOINT ["node", "/opt/edgesim/bin/edgesim.cjs"]
CMD ["--help"]
