#!/usr/bin/env bash
# Installs (as root, with apt-get) or names (otherwise) the system packages Testimone needs:
# Pango for WeasyPrint's PDFs; for the tests also poppler-utils (pdftotext), chromium and the colour
# emoji font most desktops have (the document tests render with and without it); Xvfb and xdotool
# for the e2e test that right-clicks for real (a visible Chromium on a virtual screen); Firefox ESR for
# the load-and-capture test over WebDriver BiDi.
set -euo pipefail
need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib 'libpango-1.0.so.0'    || need+=(libpango-1.0-0)
have_lib 'libpangoft2-1.0.so.0' || need+=(libpangoft2-1.0-0)
if [[ "${1:-}" == "--test" || "${CI:-}" == "true" ]]; then
  command -v pdftotext >/dev/null || need+=(poppler-utils)
  command -v chromium  >/dev/null || need+=(chromium)
  [[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]] || need+=(fonts-noto-color-emoji)
  command -v Xvfb      >/dev/null || need+=(xvfb)
  command -v xdotool   >/dev/null || need+=(xdotool)
  command -v firefox-esr >/dev/null || need+=(firefox-esr)
fi
[[ ${#need[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Testimone needs these system packages: ${need[*]}" >&2
  echo "Install them, e.g.: sudo apt-get install ${need[*]}   (macOS: brew install pango poppler)" >&2
  exit 1
fi
