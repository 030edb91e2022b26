#!/usr/bin/env bash
# Installs the one Terraform version this project uses, from HashiCorp's release archive, after
# checking the archive against a pinned SHA-256. This file is the only place the version lives:
# bitbucket-pipelines.yml calls it, and __tests__/pipeline.test.ts checks nothing else names one.
#
# To upgrade: set TERRAFORM_VERSION, and PINNED_SHA256 to the terraform_<version>_linux_amd64.zip
# line of https://releases.hashicorp.com/terraform/<version>/terraform_<version>_SHA256SUMS (whose
# detached signature, terraform_<version>_SHA256SUMS.sig, is made with HashiCorp's release key,
# fingerprint C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F; see
# https://www.hashicorp.com/security). The pin below was cross-checked against three independent
# publications of that line: HashiCorp's own Homebrew tap (Formula/terraform.rb at 1.14.7), a mirror
# formula of it, and an unrelated project's pinned install script.
#
# Usage: scripts/install-terraform.sh [install-dir]   (default: $TERRAFORM_INSTALL_DIR, else /usr/local/bin)
# Overrides, for a mirror or an offline rehearsal (npm run rehearse serves a local archive and a
# checksum made for it); unset, the script downloads HashiCorp's archive and checks the pin below:
#   TERRAFORM_RELEASES_URL  where <version>/terraform_<version>_linux_amd64.zip is (HTTPS only)
#   TERRAFORM_SHA256        the archive's expected SHA-256
set -euo pipefail

TERRAFORM_VERSION="1.14.7"
PINNED_SHA256="e8bbcefea8015156e04e2a325cde37a0b2fb761728bda548e2fe3b8ad7c18c96"
RELEASES_URL="${TERRAFORM_RELEASES_URL:-https://releases.hashicorp.com/terraform}"
TERRAFORM_SHA256="${TERRAFORM_SHA256:-$PINNED_SHA256}"

if [ "${1:-}" = "--print-version" ]; then
  echo "$TERRAFORM_VERSION"
  exit 0
fi

install_dir="${1:-${TERRAFORM_INSTALL_DIR:-/usr/local/bin}}"

if command -v terraform >/dev/null 2>&1 && terraform version | head -n 1 | grep -qx "Terraform v${TERRAFORM_VERSION}"; then
  echo "Terraform ${TERRAFORM_VERSION} is already installed: $(command -v terraform)"
  exit 0
fi

machine="$(uname -m)"
if [ "$(uname -s)" != "Linux" ] || [ "$machine" != "x86_64" ]; then
  echo "error: this script installs terraform_${TERRAFORM_VERSION}_linux_amd64, and this machine is $(uname -s) ${machine}; install Terraform ${TERRAFORM_VERSION} another way" >&2
  exit 1
fi
for tool in curl sha256sum unzip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is required to install Terraform (the node:24-bookworm image has it)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
archive="terraform_${TERRAFORM_VERSION}_linux_amd64.zip"

curl --fail --silent --show-error --location --retry 3 --proto '=https' --tlsv1.2 \
  --output "$work/$archive" "${RELEASES_URL}/${TERRAFORM_VERSION}/${archive}"

# Nothing from the archive runs before its checksum matches the pin.
if ! echo "${TERRAFORM_SHA256}  $work/$archive" | sha256sum --check --strict --status -; then
  echo "error: $archive has SHA-256 $(sha256sum "$work/$archive" | cut -d ' ' -f 1), and it must be ${TERRAFORM_SHA256} ($([ "$TERRAFORM_SHA256" = "$PINNED_SHA256" ] && echo "the pinned checksum" || echo "TERRAFORM_SHA256")); refusing to install it" >&2
  exit 1
fi

unzip -q -o "$work/$archive" terraform -d "$work"
mkdir -p "$install_dir"
install -m 0755 "$work/terraform" "$install_dir/terraform"
echo "Installed Terraform ${TERRAFORM_VERSION} (SHA-256 verified) to $install_dir/terraform"
