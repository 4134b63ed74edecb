#!/usr/bin/env bash
# Draws Kintoun's icons (a small cloud, the kintoun of the Monkey King) with ImageMagick:
# the app icon in the sizes the bundler wants, and one tray icon per server state.
set -euo pipefail
cd "$(dirname "$0")"
cloud() { # size colour output
  local s=$1 c=$2 out=$3
  convert -size 512x512 xc:none -fill "$c" -stroke none \
    -draw "circle 176,300 176,204" -draw "circle 300,250 300,120" -draw "circle 376,320 376,236" \
    -draw "roundrectangle 96,290 440,400 56,56" \
    -fill white -draw "circle 228,312 228,296" -draw "circle 318,312 318,296" \
    -resize "${s}x${s}" "PNG32:$out"
}
cloud 512 '#f0a020' icon.png
cloud 32 '#f0a020' 32x32.png
cloud 128 '#f0a020' 128x128.png
cloud 256 '#f0a020' 128x128@2x.png
cloud 64 '#2e9e4f' tray-running.png
cloud 64 '#9a9a9a' tray-starting.png
cloud 64 '#d03030' tray-error.png
