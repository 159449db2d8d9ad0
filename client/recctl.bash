# bash completion for recctl (installed as share/bash-completion/completions/recctl).
# Completes subcommands, their options, option values with a fixed set, and session ids (asked
# from recd with `recctl list --json`, silently nothing when recd is not running).

_recctl_sessions() {
    recctl --json list 2>/dev/null | grep -o '"id":"s[0-9]*"' | cut -d'"' -f4
}

# The shared-memory rings this user's producers have open, as --source values.
_recctl_rings() {
    local ring prefix="/dev/shm/recd-$(id -u)-"
    for ring in "$prefix"*; do
        [[ -e $ring ]] && echo "shm:${ring#"$prefix"}"
    done
}

_recctl() {
    local cur prev cmd i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="start stop status pause resume split encoders devices list ping events shutdown"
    local globals="--socket --user --json --timeout --help --version"
    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --socket | --user | --timeout) ((i++)) ;;
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    case $prev in
        --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
        --audio-codec) COMPREPLY=($(compgen -W "aac opus" -- "$cur")); return ;;
        --container) COMPREPLY=($(compgen -W "mkv mp4 mpegts" -- "$cur")); return ;;
        --encoder) COMPREPLY=($(compgen -W "nvenc x264" -- "$cur")); return ;;
        --codec) COMPREPLY=($(compgen -W "h264 hevc" -- "$cur")); return ;;
        --quality) COMPREPLY=($(compgen -W "low medium high" -- "$cur")); return ;;
        --source) COMPREPLY=($(compgen -W "x11 shm: $(_recctl_rings)" -- "$cur")); return ;;
        --timeout | --display | --region | --monitor | --fps | --name | --size | \
            --system-device | --mic-device) return ;;
    esac
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands $globals" -- "$cur"))
        return
    fi
    local options=
    case $cmd in
        start) options="--source --wait --display --region --monitor --fps --name --no-system-audio --no-mic
            --system-device --mic-device --audio-codec --container --encoder --strict --codec
            --quality --size" ;;
        stop) options="--all $(_recctl_sessions)" ;;
        status) options="--watch $(_recctl_sessions)" ;;
        pause | resume | split) options=$(_recctl_sessions) ;;
    esac
    COMPREPLY=($(compgen -W "$options $globals" -- "$cur"))
}
complete -F _recctl recctl
