#!/usr/bin/env bash
# Installs DynamoDB Local (the official jar) for the integration tests, once per machine.
# The jar ships inside the npm package amplify-dynamodb-simulator; `npm pack` fetches the tarball without
# installing its ~280 dependencies, and only package/emulator/ (the jar and its native libraries) is kept.
set -euo pipefail

VERSION="2.9.30"
DIR="${DYNAMODB_LOCAL_DIR:-$HOME/.cache/highwater/dynamodb-local}"

if ! command -v java >/dev/null 2>&1; then
  echo "install-dynamodb-local: java was not found on PATH; DynamoDB Local needs Java 17." >&2
  echo "  Install it with: apt-get install -y openjdk-17-jre-headless" >&2
  exit 1
fi

if [ -f "$DIR/DynamoDBLocal.jar" ]; then
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "install-dynamodb-local: fetching amplify-dynamodb-simulator@$VERSION into $DIR" >&2
tarball="$(cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$VERSION" | tail -n 1)"
tar -xzf "$tmp/$tarball" -C "$tmp" package/emulator
if [ ! -f "$tmp/package/emulator/DynamoDBLocal.jar" ]; then
  echo "install-dynamodb-local: $tarball has no package/emulator/DynamoDBLocal.jar" >&2
  exit 1
fi

# Copy into a sibling directory and rename it into place, so an interrupted install never leaves half a jar.
parent="$(dirname "$DIR")"
mkdir -p "$parent"
staging="$(mktemp -d "$parent/.dynamodb-local.XXXXXX")"
cp -R "$tmp/package/emulator/." "$staging/"
rm -rf "$DIR"
mv "$staging" "$DIR"
echo "install-dynamodb-local: installed $(du -sh "$DIR" | cut -f1) in $DIR" >&2
