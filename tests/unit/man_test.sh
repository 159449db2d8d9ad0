#!/bin/bash
# ctest "unit: man pages": docs/recctl.1 and docs/recd.1 format without a single groff warning,
# carry the version the programs print, and name every subcommand and option the programs' own
# --help lists (a section per recctl subcommand), so neither page can fall behind client/main.cpp
# or daemon/main.cpp. Exits 77 (ctest: skipped) without groff, which scripts/deps.sh installs.
# Usage: man_test.sh DOCS_DIR RECCTL RECD
set -u
docs=${1:?usage: man_test.sh DOCS_DIR RECCTL RECD}
recctl=${2:?usage: man_test.sh DOCS_DIR RECCTL RECD}
recd=${3:?usage: man_test.sh DOCS_DIR RECCTL RECD}
fail=0
problem() { echo "FAIL: $*"; fail=1; }

if ! command -v groff >/dev/null; then
    echo "SKIP: no groff (apt-get install groff-base, as scripts/deps.sh does)"
    exit 77
fi
for page in "$docs/recctl.1" "$docs/recd.1"; do
    # -ww: every warning; -z: format, print nothing. groff exits 0 on warnings, so read them.
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1 >/dev/null)
    [[ -z $warnings ]] || problem "$page: groff says: $warnings"
done

# The page's source with troff's escaped hyphens (\-) made plain, for looking up names.
plain() { sed 's/\\-/-/g' "$1"; }
# Every option a --help text lists: "-h,--help", "--socket PATH", "--watch,-w" ...
options_of() { grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' | tr -d ' ,' | sort -u; }
# A whole option name in the page, not the start of a longer one (--no-mic, not --no-mic-x).
names() { grep -qE -- "(^|[^a-z-])$2([^a-z-]|\$)" <<<"$1"; }

recctl_page=$(plain "$docs/recctl.1")
recd_page=$(plain "$docs/recd.1")
version=$("$recctl" --version | awk '{print $NF}')
for page in recctl recd; do
    th=$(grep -m1 '^\.TH' "$docs/$page.1")
    [[ $th == *"\"recd $version\""* ]] || problem "$page.1: .TH does not say recd $version: $th"
done

subcommands=$("$recctl" --help | awk '/^Subcommands:/ {on = 1; next} on && NF {print $1}')
[[ -n $subcommands ]] || problem "recctl --help lists no subcommands"
for sub in $subcommands; do
    grep -qE "^\.SS \"?$sub( |\"|\$)" "$docs/recctl.1" || problem "recctl.1 has no section for '$sub'"
    for option in $("$recctl" "$sub" --help | options_of); do
        names "$recctl_page" "$option" || problem "recctl.1 does not name '$sub $option'"
    done
done
for option in $("$recctl" --help | options_of); do
    names "$recctl_page" "$option" || problem "recctl.1 does not name global option '$option'"
done
for option in $("$recd" --help | options_of); do
    names "$recd_page" "$option" || problem "recd.1 does not name option '$option'"
done
# Exit codes and the environment scripts rely on.
for word in RECD_SOCKET XDG_RUNTIME_DIR "EXIT STATUS"; do
    grep -qF "$word" <<<"$recctl_page" || problem "recctl.1 does not mention $word"
done
for word in SIGTERM SIGINT SIGHUP "EXIT STATUS" admin_group; do
    grep -qF "$word" <<<"$recd_page" || problem "recd.1 does not mention $word"
done
[[ $fail == 0 ]] && echo "man pages: clean, $(wc -w <<<"$subcommands") recctl subcommands covered"
exit $fail
