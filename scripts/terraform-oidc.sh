#!/usr/bin/env bash
# Runs Terraform on synthesized stacks with short-lived AWS credentials from the step's OIDC token,
# one AWS account (its workload stack) at a time. For each account it
#   1. derives the role's ARN from the configuration (no variable per account),
#   2. runs the token doctor for that role, so a refused token fails the step with the reason,
#   3. runs terraform init, then plan (its output saved as plans/<stack>.txt) or apply.
# Terraform's AWS provider and S3 backend read AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE.
#
# Usage (in a Bitbucket Pipelines step with "oidc: true", after `npm run synth` and
# `npm run build:explain`, whose cdktf.out/ and dist/ arrive as artifacts):
#   scripts/terraform-oidc.sh plan  <role-name> [account...]   # default: every stack in cdktf.out/stacks
#   scripts/terraform-oidc.sh apply <role-name> <account>
# Environment: BITBUCKET_STEP_OIDC_TOKEN (set by Bitbucket), BITBUCKET_OIDC_CONFIG (the config file),
# EXPLAIN_JS (the bundled doctor, default dist/explain.js), TERRAFORM (default terraform).
set -euo pipefail

usage="usage: $0 plan <role-name> [account...] | $0 apply <role-name> <account>"
mode="${1:-}"
role="${2:-}"
case "$mode" in
  plan | apply) ;;
  *) echo "error: the first argument must be plan or apply, and it is \"$mode\"; $usage" >&2; exit 2 ;;
esac
[ -n "$role" ] || { echo "error: the role name is missing; $usage" >&2; exit 2; }
shift 2
if [ "$mode" = apply ] && [ "$#" -ne 1 ]; then
  echo "error: apply takes exactly one account, so that a deployment step changes only its own account; $usage" >&2
  exit 2
fi

if [ -z "${BITBUCKET_STEP_OIDC_TOKEN:-}" ]; then
  echo "error: BITBUCKET_STEP_OIDC_TOKEN is empty: add \"oidc: true\" to this step in bitbucket-pipelines.yml" >&2
  exit 2
fi
if [ -z "${BITBUCKET_OIDC_CONFIG:-}" ]; then
  echo "error: BITBUCKET_OIDC_CONFIG is not set: add it as a repository variable naming your configuration file, e.g. config/acme.json (the bundled example's accounts cannot be deployed)" >&2
  exit 2
fi

explain_js="${EXPLAIN_JS:-dist/explain.js}"
terraform="${TERRAFORM:-terraform}"
stacks_dir="cdktf.out/stacks"
stack_prefix="bitbucket-oidc-" # stackName() in src/config/types.ts: bitbucket-oidc-<account>-<bootstrap|workload>
stack_suffix="-workload"     # the pipeline plans and applies workload stacks only (bootstrap: an administrator)
[ -f "$explain_js" ] || { echo "error: $explain_js is missing: run npm run build:explain first (or keep dist/ as an artifact)" >&2; exit 2; }
[ -d "$stacks_dir" ] || { echo "error: $stacks_dir is missing: run npm run synth first (or keep cdktf.out/ as an artifact)" >&2; exit 2; }

accounts=("$@")
if [ "${#accounts[@]}" -eq 0 ]; then
  for dir in "$stacks_dir"/*"$stack_suffix"/; do
    [ -d "$dir" ] || continue
    stack="$(basename "$dir")"
    [[ "$stack" == "$stack_prefix"* ]] || { echo "error: stack $stack does not start with $stack_prefix" >&2; exit 2; }
    account="${stack#"$stack_prefix"}"
    accounts+=("${account%"$stack_suffix"}")
  done
fi
[ "${#accounts[@]}" -gt 0 ] || { echo "error: no workload stacks (*$stack_suffix) in $stacks_dir" >&2; exit 2; }

# The token file AWS's SDKs read: outside the clone, so no artifact can carry it away.
AWS_WEB_IDENTITY_TOKEN_FILE="$(mktemp)"
export AWS_WEB_IDENTITY_TOKEN_FILE
trap 'rm -f "$AWS_WEB_IDENTITY_TOKEN_FILE"' EXIT
printf '%s' "$BITBUCKET_STEP_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"

plans_dir="$PWD/plans"
mkdir -p "$plans_dir"
if [ -n "${TF_PLUGIN_CACHE_DIR:-}" ]; then mkdir -p "$TF_PLUGIN_CACHE_DIR"; fi

for account in "${accounts[@]}"; do
  stack="${stack_prefix}${account}${stack_suffix}"
  dir="$stacks_dir/$stack"
  [ -d "$dir" ] || { echo "error: account \"$account\" has no stack $dir; the stacks are: $(ls "$stacks_dir" | tr '\n' ' ')" >&2; exit 2; }

  AWS_ROLE_ARN="$(node "$explain_js" --print-role-arn --account "$account" --role "$role")"
  export AWS_ROLE_ARN
  # Names the session in CloudTrail: which pipeline run assumed the role.
  export AWS_ROLE_SESSION_NAME="bitbucket-${BITBUCKET_BUILD_NUMBER:-local}-${account}"
  echo "== $stack: $mode as $AWS_ROLE_ARN"

  # Refuses (exit 1) with the failed condition and a hint before Terraform's opaque AccessDenied.
  node "$explain_js" --token-file "$AWS_WEB_IDENTITY_TOKEN_FILE" --account "$account" --role "$role"

  "$terraform" -chdir="$dir" init -input=false -no-color
  if [ "$mode" = plan ]; then
    # Text only: a binary plan file holds the state's values (secrets included) and would be an artifact.
    "$terraform" -chdir="$dir" plan -input=false -no-color -lock-timeout=5m | tee "$plans_dir/$stack.txt"
  else
    "$terraform" -chdir="$dir" apply -input=false -no-color -lock-timeout=5m -auto-approve
  fi
done
