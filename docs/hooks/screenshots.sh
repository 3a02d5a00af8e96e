#!/usr/bin/env bash
# Screenshots of the built docs opened from disk (file://), in headless Chromium: the home page, the
# API reference, and a search. Usage: docs/hooks/screenshots.sh [SITE_DIR] [OUT_DIR]   (make docs-screenshots)
# Needs a chromium binary (Debian: apt-get install chromium); CI does not run this.
set -euo pipefail
site=$(realpath "${1:-site}")
out=${2:-runs/docs-screenshots}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    echo "no chromium found: install it (Debian: apt-get install chromium) to take the screenshots" >&2
    exit 2
fi
[ -f "$site/index.html" ] || { echo "$site/index.html not found: run make docs first" >&2; exit 2; }
mkdir -p "$out"
shoot() {  # shoot NAME URL: one PNG, in a fresh profile so nothing is cached or synced
    local profile
    profile=$(mktemp -d)
    "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --window-size=1280,1600 --virtual-time-budget=5000 \
        --screenshot="$out/$1.png" "$2" >/dev/null 2>&1
    rm -rf "$profile"
    echo "$out/$1.png"
}
shoot home "file://$site/index.html"
shoot api-index "file://$site/api/index.html"
shoot api-core "file://$site/api/core.html"
shoot search "file://$site/index.html?q=warmup_steps"
