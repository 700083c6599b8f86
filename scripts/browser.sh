#!/usr/bin/env bash
# The browser the portal's browser test drives: Debian's `chromium` package, through
# playwright-core (which never downloads a browser of its own).
#   scripts/browser.sh install   apt-get install chromium when /usr/bin/chromium is missing
#                                (idempotent; instant when it is there)
set -euo pipefail
CHROMIUM=${PORTAL_TEST_CHROMIUM:-/usr/bin/chromium}

log() { printf '[browser] %s\n' "$*" >&2; }

install() {
  if [ -x "$CHROMIUM" ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    log "$CHROMIUM is missing; as root: apt-get install chromium (the portal's browser test needs it)"
    return 1
  fi
  log "installing Debian's chromium package (once)"
  # Another install may hold the dpkg lock for a while (a CI image warming up): wait for it.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium >/dev/null; }
  [ -x "$CHROMIUM" ]
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: scripts/browser.sh install" >&2; exit 2 ;;
esac
