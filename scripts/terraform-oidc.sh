#!/usr/bin/env bash
# Runs Terraform on synthesized stacks with short-lived AWS credentials from the step's OIDC token,
# one AWS account (its workload stack) at a time. For each account it
#   1. derives the role's ARN from the configuration (no variable per account),
#   2. runs the token doctor for that role, so a refused token fails with the reason,
#   3. runs terraform init, then
#      plan:  terraform plan -out=<file outside the clone>, and keeps, for review and for the deploy
#             step, the plan's text (plans/<stack>.txt) and the digest of its changes
#             (plans/<stack>.digest: dist/plan-digest.js over `terraform show -json`, piped, never
#             written); every account is planned, and the failures are listed at the end;
#      apply: plans again to a file, and applies exactly that file when its digest equals the
#             reviewed plans/<stack>.digest; otherwise it refuses, printing its plan and both digests;
#      drift: terraform plan -detailed-exitcode, read-only (the plan role; nothing is kept): every
#             account is checked, and each change found is listed at the end, one line per resource
#             (dist/plan-changes.js over `terraform show -json`, piped, never written).
# Terraform's AWS provider and S3 backend read AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE.
#
# Usage (in a Bitbucket Pipelines step with "oidc: true", after `npm run synth`,
# `npm run build:explain` and `npm run build:plan-digest`, whose cdktf.out/ and dist/ arrive as
# artifacts; the deploy step also needs the plan step's plans/):
#   scripts/terraform-oidc.sh plan  <role-name> [account...]   # default: every stack in cdktf.out/stacks
#   scripts/terraform-oidc.sh apply <role-name> <account>
#   scripts/terraform-oidc.sh drift <role-name> [account...]   # the drift check: needs dist/plan-changes.js
# Environment: BITBUCKET_STEP_OIDC_TOKEN (set by Bitbucket), BITBUCKET_OIDC_CONFIG (the config file),
# EXPLAIN_JS (the bundled doctor, default dist/explain.js), PLAN_DIGEST_JS (default
# dist/plan-digest.js), PLAN_CHANGES_JS (default dist/plan-changes.js), TERRAFORM (default terraform).
# Exit codes: 0 done (drift: no account has changes); 1 an account failed (plan, drift: any of them)
# or the deploy step refused; 2 bad usage or missing inputs (nothing was run); 3 drift: every account
# was checked, and some have changes.
set -euo pipefail

usage="usage: $0 plan <role-name> [account...] | $0 apply <role-name> <account> | $0 drift <role-name> [account...]"
mode="${1:-}"
role="${2:-}"
case "$mode" in
  plan | apply | drift) ;;
  *) echo "error: the first argument must be plan, apply or drift, and it is \"$mode\"; $usage" >&2; exit 2 ;;
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
digest_js="${PLAN_DIGEST_JS:-dist/plan-digest.js}"
changes_js="${PLAN_CHANGES_JS:-dist/plan-changes.js}"
terraform="${TERRAFORM:-terraform}"
stacks_dir="cdktf.out/stacks"
stack_prefix="bitbucket-oidc-" # stackName() in src/config/types.ts: bitbucket-oidc-<account>-<bootstrap|workload>
stack_suffix="-workload"     # the pipeline plans and applies workload stacks only (bootstrap: an administrator)
[ -f "$explain_js" ] || { echo "error: $explain_js is missing: run npm run build:explain first (or keep dist/ as an artifact)" >&2; exit 2; }
if [ "$mode" = drift ]; then
  [ -f "$changes_js" ] || { echo "error: $changes_js is missing: run npm run build:plan-changes first (or keep dist/ as an artifact)" >&2; exit 2; }
else
  [ -f "$digest_js" ] || { echo "error: $digest_js is missing: run npm run build:plan-digest first (or keep dist/ as an artifact)" >&2; exit 2; }
fi
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
for account in "${accounts[@]}"; do
  dir="$stacks_dir/$stack_prefix$account$stack_suffix"
  [ -d "$dir" ] || { echo "error: account \"$account\" has no stack $dir; the stacks are: $(ls "$stacks_dir" | tr '\n' ' ')" >&2; exit 2; }
done

plans_dir="plans"
mkdir -p "$plans_dir"
if [ -n "${TF_PLUGIN_CACHE_DIR:-}" ]; then mkdir -p "$TF_PLUGIN_CACHE_DIR"; fi

# Outside the clone, so no artifact can carry them away: the token file AWS's SDKs read, and the
# saved plan files (they hold the state's values).
private_dir="$(mktemp -d)"
trap 'rm -rf "$private_dir"' EXIT
AWS_WEB_IDENTITY_TOKEN_FILE="$private_dir/web-identity-token"
export AWS_WEB_IDENTITY_TOKEN_FILE
printf '%s' "$BITBUCKET_STEP_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"

# What an account's subshell is doing, for the summary of failures.
stage_file="$private_dir/stage"
stage() { printf '%s' "$1" > "$stage_file"; }

# The digest of a saved plan's changes (src/ci/reviewed-plan.ts); the JSON only passes through the pipe.
digest_of() { # <stack dir> <plan file>
  "$terraform" -chdir="$1" show -json "$2" | node "$digest_js"
}

# Role ARN, doctor and init for one account; exports the role for Terraform.
prepare() { # <account> <stack> <dir>
  stage "deriving the role ARN"
  AWS_ROLE_ARN="$(node "$explain_js" --print-role-arn --account "$1" --role "$role")"
  export AWS_ROLE_ARN
  # Names the session in CloudTrail: which pipeline run assumed the role.
  export AWS_ROLE_SESSION_NAME="bitbucket-${BITBUCKET_BUILD_NUMBER:-local}-$1"
  echo "== $2: $mode as $AWS_ROLE_ARN"
  # Refuses (exit 1) with the failed condition and a hint before Terraform's opaque AccessDenied.
  stage "the token doctor"
  node "$explain_js" --token-file "$AWS_WEB_IDENTITY_TOKEN_FILE" --account "$1" --role "$role"
  stage "terraform init"
  # -lockfile=readonly: the providers must match terraform/.terraform.lock.hcl (copied into every stack), or init fails.
  "$terraform" -chdir="$3" init -input=false -lockfile=readonly -no-color
}

plan_account() { # <account> <stack> <dir>
  local planfile="$private_dir/$2.tfplan" digest
  rm -f "$plans_dir/$2.txt" "$plans_dir/$2.digest"
  prepare "$@"
  stage "terraform plan"
  "$terraform" -chdir="$3" plan -input=false -no-color -lock-timeout=5m -out="$planfile"
  stage "terraform show"
  "$terraform" -chdir="$3" show -no-color "$planfile" > "$private_dir/$2.txt"
  stage "the plan digest"
  digest="$(digest_of "$3" "$planfile")"
  # Written last, and only whole: a digest means the plan and its text are complete.
  mv "$private_dir/$2.txt" "$plans_dir/$2.txt"
  printf '%s\n' "$digest" > "$plans_dir/$2.digest"
  echo "== $2: plan to review in $plans_dir/$2.txt, digest $digest"
}

apply_account() { # <account> <stack> <dir>
  local planfile="$private_dir/$2.tfplan" reviewed_file="$plans_dir/$2.digest" reviewed current
  if [ ! -f "$reviewed_file" ]; then
    echo "error: account \"$1\": $reviewed_file is missing, so there is no reviewed plan to compare with; the deploy step applies only what the plan step of the same pipeline planned (its artifact plans/**): run the plan step first" >&2
    exit 1
  fi
  reviewed="$(head -n 1 "$reviewed_file")"
  if ! [[ "$reviewed" =~ ^sha256:[0-9a-f]{64}$ ]]; then
    echo "error: account \"$1\": $reviewed_file holds \"${reviewed:0:80}\", and it must be one line sha256:<64 hex digits>, as the plan step writes it; nothing was applied" >&2
    exit 1
  fi
  prepare "$@"
  stage "terraform plan"
  "$terraform" -chdir="$3" plan -input=false -no-color -lock-timeout=5m -out="$planfile"
  stage "the plan digest"
  current="$(digest_of "$3" "$planfile")"
  if [ "$current" != "$reviewed" ]; then
    echo "== $2: the plan of this deploy step, NOT applied:"
    "$terraform" -chdir="$3" show -no-color "$planfile"
    echo "error: account \"$1\": the plan of this deploy step (digest $current) differs from the plan reviewed in the plan step ($plans_dir/$2.txt, digest $reviewed), so nothing was applied. The state or the infrastructure changed since that plan (another pipeline's deploy step applied, or a change by hand): run a new pipeline and review its plan. This step's plan is printed above." >&2
    exit 1
  fi
  echo "== $2: the plan equals the reviewed one (digest $current); applying that saved plan"
  stage "terraform apply"
  "$terraform" -chdir="$3" apply -input=false -no-color -lock-timeout=5m "$planfile"
}

# The drift check of one account: its changes, if any, go to $private_dir/<stack>.changes (written whole).
drift_account() { # <account> <stack> <dir>
  local planfile="$private_dir/$2.tfplan" status=0
  prepare "$@"
  stage "terraform plan"
  # -detailed-exitcode: 0 no changes, 1 an error, 2 changes.
  "$terraform" -chdir="$3" plan -input=false -no-color -lock-timeout=5m -detailed-exitcode -out="$planfile" || status=$?
  if [ "$status" -eq 0 ]; then
    echo "== $2: no changes: the account matches its configuration"
    return 0
  fi
  [ "$status" -eq 2 ] || exit "$status"
  stage "terraform show"
  "$terraform" -chdir="$3" show -json "$planfile" | node "$changes_js" > "$private_dir/$2.lines"
  if [ ! -s "$private_dir/$2.lines" ]; then
    echo "Terraform found changes (plan -detailed-exitcode exited 2) that are neither a resource's nor an output's: read the plan above" > "$private_dir/$2.lines"
  fi
  mv "$private_dir/$2.lines" "$private_dir/$2.changes"
  echo "== $2: CHANGES FOUND: $(wc -l < "$private_dir/$2.changes") (listed at the end)"
}

failures=()
drifted=()
going_on="planning"
if [ "$mode" = drift ]; then going_on="checking"; fi
for account in "${accounts[@]}"; do
  stack="$stack_prefix$account$stack_suffix"
  # Each account in a subshell with errexit: its first failing command ends that account only.
  stage "starting"
  set +e
  ( set -e; "${mode}_account" "$account" "$stack" "$stacks_dir/$stack" )
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    [ "$mode" = apply ] && exit "$status"
    failures+=("$account ($(cat "$stage_file") failed, exit $status)")
    echo "== $stack: FAILED at $(cat "$stage_file") (exit $status); $going_on the other accounts" >&2
  elif [ -f "$private_dir/$stack.changes" ]; then
    drifted+=("$stack")
  fi
done

if [ "${#drifted[@]}" -gt 0 ]; then
  echo "drift: ${#drifted[@]} of ${#accounts[@]} accounts differ from their configuration, one line per change (the plans are above; what to do: docs/pipeline.md#drift-checks):"
  for stack in "${drifted[@]}"; do sed "s/^/drift: $stack: /" "$private_dir/$stack.changes"; done
fi

if [ "${#failures[@]}" -gt 0 ]; then
  list="$(printf '%s; ' "${failures[@]}")"
  if [ "$mode" = drift ]; then
    echo "error: the drift check failed for ${#failures[@]} of ${#accounts[@]} accounts, which were not checked: ${list%; }. Their output is above, under == bitbucket-oidc-<account>-workload" >&2
  else
    echo "error: the plan failed for ${#failures[@]} of ${#accounts[@]} accounts: ${list%; }. Their output is above, under == bitbucket-oidc-<account>-workload; the other accounts' plans are in $plans_dir/" >&2
  fi
  exit 1
fi
if [ "$mode" = drift ]; then
  [ "${#drifted[@]}" -eq 0 ] || exit 3
  echo "== checked ${#accounts[@]} account(s) for drift: every workload stack matches its configuration"
fi
if [ "$mode" = plan ]; then
  echo "== planned ${#accounts[@]} account(s): review $plans_dir/<stack>.txt, then run the account's deployment step, which applies that plan only if it is still the same"
fi
