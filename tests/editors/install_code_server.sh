#!/bin/sh
# Installs code-server (VS Code's own workbench and extension host, served to a browser) and
# Debian's Chromium, for the VS Code extension's end-to-end test (tests/editors/test_vscode.py).
# Microsoft's VS Code builds cannot be downloaded here, so code-server stands in for them.
#
# code-server's install scripts fetch prebuilt binaries from GitHub, which this machine cannot
# reach, so it is installed with scripts off and its native modules are compiled here; ripgrep
# comes from Debian. Idempotent: a finished install is marked and kept in the cache.
set -eu

VERSION=4.100.3  # the last code-server for Node.js 20 (VS Code 1.100)
CACHE="${TREELLAMA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/treellama}"
DEST="$CACHE/code-server/$VERSION"
NPM="npm --no-audit --no-fund --loglevel=error"

if [ -f "$DEST/.complete" ]; then
  exit 0
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" != 20 ]; then
  echo "note: code-server $VERSION needs Node.js 20; the VS Code end-to-end test will skip"
  exit 0
fi
missing=""
for tool in chromium rg; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    packages=$(echo "$missing" | sed 's/\brg\b/ripgrep/')
    # shellcheck disable=SC2086
    apt-get install -y -q $packages >/dev/null 2>&1 || \
      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $packages >/dev/null 2>&1; }
  else
    echo "note: missing$missing; the VS Code end-to-end test will skip"
    exit 0
  fi
fi

rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
$NPM install --ignore-scripts "code-server@$VERSION"
$NPM rebuild argon2
cd node_modules/code-server/lib/vscode
$NPM install --omit=dev --ignore-scripts
npm_config_yes=true $NPM rebuild node-pty @parcel/watcher @vscode/spdlog native-watchdog
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
# What code-server's own postinstall.sh does besides the downloads:
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && $NPM install --omit=dev --ignore-scripts)
touch "$DEST/.complete"
echo "code-server $VERSION: $DEST/node_modules/.bin/code-server"
