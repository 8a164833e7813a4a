#!/usr/bin/env bash
# Fetch the pinned front-end packages from the npm registry and copy the files
# the pages use into src/openblotter/web/static/vendor/. The copies are
# committed: pages never load anything from a CDN, and the portal runs offline.
#
# Usage: bash scripts/vendor-assets.sh        (needs npm; re-run after changing a pin)
set -euo pipefail

USWDS_VERSION="3.14.0"       # U.S. Web Design System: header, cards, tables, forms, alerts
VEGA_VERSION="6.4.0"         # chart runtime
VEGA_LITE_VERSION="6.5.0"    # chart grammar (needs vega ^6.4)
VEGA_EMBED_VERSION="7.1.0"   # renders a Vega-Lite spec into a page, with tooltips
SWAGGER_UI_VERSION="5.35.0"  # /api/docs: the OpenAPI schema as an interactive page

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/src/openblotter/web/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

unpack() {  # unpack <package@version> <directory name>: npm pack, then untar into $WORK/<name>
    local spec="$1" name="$2" tarball
    tarball="$(cd "$WORK" && npm pack --silent "$spec" | tail -n 1)"
    mkdir -p "$WORK/$name"
    tar -xzf "$WORK/$tarball" -C "$WORK/$name" --strip-components=1
}

unpack "@uswds/uswds@$USWDS_VERSION" uswds
unpack "vega@$VEGA_VERSION" vega
unpack "vega-lite@$VEGA_LITE_VERSION" vega-lite
unpack "vega-embed@$VEGA_EMBED_VERSION" vega-embed
unpack "swagger-ui-dist@$SWAGGER_UI_VERSION" swagger-ui

rm -rf "$VENDOR"
mkdir -p "$VENDOR/uswds/css" "$VENDOR/uswds/js" "$VENDOR/vega" "$VENDOR/swagger-ui"

# USWDS: the compiled stylesheet and script, and only the images and fonts the
# stylesheet refers to (the full dist is 20 MB, mostly unused icons and fonts).
DIST="$WORK/uswds/dist"
cp "$DIST/css/uswds.min.css" "$VENDOR/uswds/css/"
cp "$DIST/js/uswds.min.js" "$VENDOR/uswds/js/"
cp "$WORK/uswds/LICENSE.md" "$VENDOR/uswds/LICENSE.md"
grep -o 'url(\.\./[^)]*)' "$DIST/css/uswds.min.css" \
    | sed -e 's/^url(\.\.\///' -e 's/)$//' -e 's/[?#].*$//' \
    | sort -u \
    | while read -r asset; do
        mkdir -p "$VENDOR/uswds/$(dirname "$asset")"
        cp "$DIST/$asset" "$VENDOR/uswds/$asset"
    done

# Vega: browser (UMD) builds; each defines a global (vega, vegaLite, vegaEmbed).
cp "$WORK/vega/build/vega.min.js" "$VENDOR/vega/"
cp "$WORK/vega-lite/build/vega-lite.min.js" "$VENDOR/vega/"
cp "$WORK/vega-embed/build/vega-embed.min.js" "$VENDOR/vega/"
for package in vega vega-lite vega-embed; do
    cp "$WORK/$package/LICENSE" "$VENDOR/vega/LICENSE-$package"
done

# Swagger UI: the self-contained browser bundle and its stylesheet (no source maps, no CDN).
for file in swagger-ui-bundle.js swagger-ui.css swagger-ui-bundle.js.LICENSE.txt LICENSE NOTICE; do
    cp "$WORK/swagger-ui/$file" "$VENDOR/swagger-ui/"
done

cat > "$VENDOR/VERSIONS.txt" <<EOF
Vendored by scripts/vendor-assets.sh from the npm registry (npm pack).
@uswds/uswds $USWDS_VERSION
vega $VEGA_VERSION
vega-lite $VEGA_LITE_VERSION
vega-embed $VEGA_EMBED_VERSION
swagger-ui-dist $SWAGGER_UI_VERSION
EOF
echo "Vendored into $VENDOR:"
du -sh "$VENDOR"/*
