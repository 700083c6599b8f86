#!/usr/bin/env bash
# Validates deploy/k8s/*.yaml (or the files given) against the Kubernetes JSON schemas, offline:
# kubernetes-validate (PyPI) ships the schemas of every Kubernetes version inside the package,
# and --strict rejects properties the schema does not know (a misspelt field is an error).
# The tool is installed once into .local/k8s-validate (a Python venv); only that install needs
# the package registry.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.local/k8s-validate"
VERSION=1.37.0          # the tool's version, pinned
KUBERNETES=1.31.0       # the cluster version the manifests are checked against

if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  echo "[k8s-validate] installing kubernetes-validate $VERSION into $VENV" >&2
  python3 -m venv "$VENV" >&2 || { echo "[k8s-validate] python3 -m venv failed: apt-get install python3-venv" >&2; exit 1; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$VERSION" >&2
fi
[ "${1:-}" = install ] && exit 0
if [ $# -eq 0 ]; then set -- "$ROOT"/deploy/k8s/*.yaml; fi
exec "$VENV/bin/kubernetes-validate" --strict --quiet -k "$KUBERNETES" "$@"
