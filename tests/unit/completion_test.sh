#!/bin/bash
# ctest "unit:bash completion": loads client/recctl.bash and checks what it offers (no recd
# running: session ids complete to nothing, silently). Usage: completion_test.sh RECCTL.BASH
set -u
source "${1:?usage: completion_test.sh RECCTL.BASH}"
recctl() { return 3; }  # as when recd is not running
fail=0
expect() {  # expect "WORDS TYPED" "WORD THAT MUST BE OFFERED" ["WORD THAT MUST NOT"]
    read -r -a COMP_WORDS <<<"$1"
    [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _recctl
    local offered=" ${COMPREPLY[*]} "
    if [[ $offered != *" $2 "* ]]; then echo "FAIL: '$1' does not offer '$2' (offered:$offered)"; fail=1; fi
    if [[ -n ${3:-} && $offered == *" $3 "* ]]; then echo "FAIL: '$1' offers '$3'"; fail=1; fi
}
expect "recctl st" start
expect "recctl st" status
expect "recctl sta" start stop
expect "recctl start --con" --container
expect "recctl start --container " mp4
expect "recctl --json status --w" --watch
expect "recctl stop --" --all
expect "recctl start --quality " medium
expect "recctl start --so" --source
expect "recctl start --source " x11
expect "recctl start --source shm:cam1 --w" --wait
expect "recctl " events
expect "recctl --u" --user
expect "recctl --user ro" root
expect "recctl --user root st" status
exit $fail
