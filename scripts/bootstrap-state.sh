#!/usr/bin/env bash
# Applies the state account's bootstrap stack for the first time, when the state bucket it creates does
# not exist yet, and then moves that stack's own state into the bucket:
#   1. refuses if the bucket already holds this stack's state (then use terraform init && apply), or
#      if the S3 backend fails for another reason than a missing bucket (it may hold that state);
#   2. swaps the S3 backend for local state with an override file (zz_bootstrap_state_override.tf.json),
#      runs terraform init and terraform apply (which asks for confirmation);
#   3. removes the override file and runs terraform init -migrate-state -force-copy, which copies the
#      local state into the bucket; checks that the bucket's state lists the same resources, and only
#      then deletes the local state file.
# After a failure, run it again without re-synthesizing: it picks up the local state where it stopped
# (as long as the bucket holds no state of this stack yet).
#
# Usage, after `npm run synth`, with the state account's administrator credentials:
#   AWS_PROFILE=<state account admin> scripts/bootstrap-state.sh <account> [terraform init option ...]
# The init options go to the S3 backend's init (e.g. -backend-config=profile=<state account admin>).
# Environment: TERRAFORM (default terraform); STACKS_DIR (default cdktf.out/stacks).
# Exit codes: 0 done; 1 a terraform command failed, or the bucket holds (or may hold) the state
# already; 2 bad usage or missing inputs (nothing was run).
set -euo pipefail

usage="usage: $0 <account> [terraform init option ...]"
account="${1:-}"
[ -n "$account" ] || { echo "error: the account name is missing; $usage" >&2; exit 2; }
shift
terraform_bin="${TERRAFORM:-terraform}"
stacks_dir="${STACKS_DIR:-cdktf.out/stacks}"
stack="bitbucket-oidc-${account}-bootstrap"
dir="$stacks_dir/$stack"
override="$dir/zz_bootstrap_state_override.tf.json"
local_state="bootstrap-local.tfstate"

if [ ! -f "$dir/cdk.tf.json" ]; then
  echo "error: $dir/cdk.tf.json is missing: run npm run synth first (BITBUCKET_OIDC_CONFIG set to your configuration), and check the account name" >&2
  exit 2
fi
if ! grep -q '"aws_s3_bucket"' "$dir/cdk.tf.json"; then
  echo "error: $stack does not create the state bucket: only the bootstrap stack of the account named by state.account does." >&2
  echo "       Apply the other bootstrap stacks with terraform init -backend-config=profile=<state account admin> and terraform apply (README, \"First deploy\")." >&2
  exit 2
fi

tf() { "$terraform_bin" -chdir="$dir" "$@"; }

# 1. A state already in the bucket must never be replaced by a new local one. Only a missing bucket
#    (NoSuchBucket) means a first run: a bucket that cannot be read (credentials, policy) may hold it.
if checked="$(tf init -input=false -reconfigure "$@" 2>&1)"; then
  if ! existing="$(tf state list 2>&1)"; then
    echo "error: the state of $stack in the bucket cannot be read, so it may exist:" >&2
    printf '%s\n' "$existing" | tail -n 20 >&2
    exit 1
  fi
  if [ -n "$existing" ]; then
    echo "error: the bucket already holds the state of $stack; change it with" >&2
    echo "       terraform -chdir=$dir init && terraform -chdir=$dir apply" >&2
    exit 1
  fi
elif ! printf '%s' "$checked" | grep -q 'NoSuchBucket'; then
  echo "error: terraform init of the S3 backend failed for another reason than a missing bucket, so the bucket may already hold the state of $stack:" >&2
  printf '%s\n' "$checked" | tail -n 20 >&2
  exit 1
fi

# 2. First apply, with local state (the bucket does not exist yet).
trap 'rm -f "$override"' EXIT
printf '{"terraform": {"backend": {"local": {"path": "%s"}}}}\n' "$local_state" > "$override"
echo "== $stack: apply with local state ($dir/$local_state)"
tf init -input=false -reconfigure
if ! tf apply -input=false; then
  echo "error: the apply failed; the local state is kept in $dir/$local_state: fix the cause and run this script again (without re-synthesizing)" >&2
  exit 1
fi
applied="$(tf state list)"

# 3. Into the bucket it created.
rm -f "$override"
echo "== $stack: move the state into the bucket"
if ! tf init -input=false -migrate-state -force-copy "$@"; then
  echo "error: the state could not be moved into the bucket; it is kept in $dir/$local_state: run this script again" >&2
  exit 1
fi
moved="$(tf state list)"
if [ "$moved" != "$applied" ]; then
  echo "error: the bucket's state of $stack lists other resources than the local state; the local state is kept in $dir/$local_state" >&2
  exit 1
fi
rm -f "$dir/$local_state" "$dir/$local_state.backup"
echo "== $stack: its state is in the bucket ($(printf '%s\n' "$moved" | grep -c .) resources); the other accounts' bootstrap stacks can now be applied"
