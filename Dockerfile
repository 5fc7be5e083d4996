# kproxy's node image. It was never built where it was written (no container engine there): build
# and test it yourself, see docs/operations.md.
#
#   docker build -t registry.example/kproxy:0.1.0 .
#
# The tools kproxy drives come from Debian: iptables (nft and legacy backends), nftables, ipset,
# ipvsadm, conntrack, kmod (modprobe of IPVS modules through the /lib/modules mount).
FROM node:20-bookworm-slim AS build
WORKDIR /opt/kproxy
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /opt/kproxy
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables nftables ipset ipvsadm conntrack kmod ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kproxy
COPY --from=deps /opt/kproxy/node_modules ./node_modules
COPY package.json ./
COPY --from=build /opt/kproxy/dist ./dist
# Runs as root on purpose: it programs netfilter and sysctls (the DaemonSet is privileged).
# The compiled build, not bin/kproxy.js: no TypeScript loader in the process, about 30 MiB less
# per process (userspace workers included) and a faster start.
ENTRYPOINT ["node", "/opt/kproxy/dist/cli/main.js"]
CMD ["run", "--config=/var/lib/kproxy/config.conf"]
