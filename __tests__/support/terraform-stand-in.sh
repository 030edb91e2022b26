#!/usr/bin/env bash
# A stand-in terraform for the tests of scripts/terraform-oidc.sh (see terraform-oidc.ts next to it).
here="$(cd "$(dirname "$0")" && pwd)"
echo "$AWS_ROLE_ARN|$AWS_ROLE_SESSION_NAME|$AWS_WEB_IDENTITY_TOKEN_FILE|$(cat "$AWS_WEB_IDENTITY_TOKEN_FILE")|$*" >> "$here/terraform.log"
stack="$(basename "${1#-chdir=}")"
command="$2"
file="${*: -1}"
case "$command" in
  init) echo "Terraform has been successfully initialized!" ;;
  plan)
    if [ -e "$here/world/$stack.fail" ]; then echo "Error: reading the state of $stack: AccessDenied" >&2; exit 1; fi
    detailed=false
    for arg in "$@"; do case "$arg" in -out=*) cp "$here/world/$stack.json" "${arg#-out=}" ;; -detailed-exitcode) detailed=true ;; esac; done
    echo "Plan: 1 to add, 0 to change, 0 to destroy."
    # -detailed-exitcode: 2 when the plan has a change (an action other than no-op).
    if [ "$detailed" = true ] && grep -Eq '"actions":\["(create|update|delete|read)' "$here/world/$stack.json"; then exit 2; fi ;;
  show)
    if [ "$3" = -json ]; then
      cat "$file"
    else
      echo "Terraform will perform the following actions ($stack):"
      grep -o '"address":"[^"]*"' "$file" | sed 's/"address":"\(.*\)"/  # \1 will be created/'
      echo "Plan: 1 to add, 0 to change, 0 to destroy."
    fi ;;
  apply)
    [ -f "$file" ] || { echo "Error: no plan file $file" >&2; exit 1; }
    echo "Apply complete! Applied the saved plan $(basename "$file")." ;;
  *) echo "stand-in terraform: unexpected command $command" >&2; exit 3 ;;
esac
