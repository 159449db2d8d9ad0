#!/bin/bash
# ctest "integration: fleet" (issue 8): recd installed once starts by itself in every graphical
# login. As root, on a machine where it may install a package and add users (CI's throwaway
# machine; it refuses to touch a recd package it did not install itself):
#   1. builds the .deb with cpack from the build tree and checks what it holds;
#   2. installs it with dpkg and writes a policy into /etc/recd/recd.toml: record everyone
#      into /var/lib/recd/{user}, except members of recdtest-exempt;
#   3. creates three users, each with a private Xvfb (fixtures/xvfb_start.sh) showing
#      test_pattern, and logs each in as a display manager (or xrdp's startwm.sh) does: runs
#      /etc/X11/Xsession as that user with that user's environment, which sources the installed
#      hook /etc/X11/Xsession.d/90recd. No systemd user session exists here, so this is the
#      path that starts recd; user b has a config of its own that tries to opt out;
#   4. checks: one recd per user with its own socket, a recording of that user's display
#      running into that user's directory (video only: there is no audio server), none for
#      the exempt user, XDG autostart's second start exits quietly, user a cannot reach b's recd;
#   5. ends the sessions: a's X server exits, b's recd gets the logout's SIGHUP, c's SIGTERM;
#      each recd finalizes and exits, and both files play to the end with ffprobe/ffmpeg.
# Everything it made is removed at the end (package purged, users and their files deleted), and
# whatever an interrupted run left behind is removed first. Exits 77 (skipped) unless root.
# Usage: fleet_test.sh BUILD_DIR TEST_PATTERN_BIN FIXTURES_DIR [STATE_DIR]
set -u
build=${1:?usage: fleet_test.sh BUILD_DIR TEST_PATTERN_BIN FIXTURES_DIR}
pattern=${2:?usage: fleet_test.sh BUILD_DIR TEST_PATTERN_BIN FIXTURES_DIR}
fixtures=${3:?usage: fleet_test.sh BUILD_DIR TEST_PATTERN_BIN FIXTURES_DIR}

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root: installs the recd package, adds users and runs their logins (CI runs it)"
    exit 77
fi
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps useradd userdel groupadd groupdel setpriv \
    ffprobe ffmpeg Xvfb jq; do
    command -v "$tool" >/dev/null ||
        { echo "FAIL: $tool not found: ./scripts/deps.sh installs what this test needs"; exit 1; }
done

users="recdtest-a recdtest-b recdtest-c"
exempt=recdtest-exempt
# Written when this test installs the package, removed when it purges it: a recd package
# without it is someone's real installation, which this test must not replace.
marker=/var/lib/recd-fleet-test.installed
# A fixed place, so a run killed before its cleanup (a ctest timeout) is cleaned up by the next.
work=${4:-$build/test-state/fleet}
mkdir -p "$work"
fail=0
problem() { echo "FAIL: $*"; fail=1; }
die() { echo "FAIL: $*"; exit 1; }
step() { echo "--- $*"; }

socket_dir() { echo "/tmp/recd-$(id -u "$1")"; }
recd_pid() { cat "$(socket_dir "$1")/recd.sock.lock" 2>/dev/null; }
alive() { [ -n "$1" ] && [ -r "/proc/$1/status" ] && ! grep -q '^State:.*zombie' "/proc/$1/status"; }
# The live processes of uid $1 (from /proc: procps may not be installed).
pids_of() {
    for status in /proc/[0-9]*/status; do
        awk -v uid="$1" '/^Uid:/ { exit !($2 == uid) }' "$status" 2>/dev/null || continue
        pid=${status#/proc/}
        alive "${pid%/status}" && echo "${pid%/status}"
    done
}

# dpkg ARGS..., waiting up to 2 min while another dpkg or apt holds dpkg's lock (dpkg cannot
# wait by itself). Its output goes to $work/dpkg.log.
dpkg_waiting() {
    for _ in $(seq 120); do
        dpkg "$@" >"$work/dpkg.log" 2>&1 && return 0
        grep -q 'lock' "$work/dpkg.log" || return 1
        sleep 1
    done
    return 1
}

# Removes the users (their processes, which only this test starts, first), the group, the
# package and the files all of them left. Run before and after the test.
remove_everything() {
    for u in $users; do
        sh "$fixtures/xvfb_stop.sh" "$work/xvfb-$u"
        id "$u" >/dev/null 2>&1 || continue
        local uid
        uid=$(id -u "$u")
        for pid in $(pids_of "$uid"); do kill -KILL "$pid" 2>/dev/null; done
        for _ in $(seq 50); do [ -z "$(pids_of "$uid")" ] && break; sleep 0.1; done
        userdel -r -f "$u" >/dev/null 2>&1
        rm -rf "/tmp/recd-$uid" "/var/lib/recd/$u"
    done
    getent group "$exempt" >/dev/null && groupdel "$exempt"
    if [ -e "$marker" ]; then
        dpkg_waiting --purge recd || { cat "$work/dpkg.log"; problem "dpkg --purge recd failed"; }
        rm -f "$marker"
    fi
    # The purge leaves /var/lib/recd while it holds recordings; emptied, it goes too.
    dpkg-query -W -f='${Status}' recd 2>/dev/null | grep -q "install ok" || rmdir /var/lib/recd 2>/dev/null
    return 0
}

finish() {
    local code=$?
    [ $code -ne 0 ] && [ -d "$work" ] && for u in $users; do
        log=/home/$u/.local/state/recd/recd.log
        [ -s "$log" ] && { echo "----- $log"; cat "$log"; }
        [ -s "/home/$u/.xsession-errors" ] && { echo "----- $u's .xsession-errors"; cat "/home/$u/.xsession-errors"; }
    done
    remove_everything
    if [ -n "${RECD_TEST_KEEP:-}" ]; then echo "RECD_TEST_KEEP: kept $work"; else rm -rf "$work"; fi
    exit $code
}
trap finish EXIT
trap 'exit 1' INT TERM

if dpkg-query -W -f='${Status}' recd 2>/dev/null | grep -q "install ok" && [ ! -e "$marker" ]; then
    die "a recd package is installed that this test did not install; it would replace and purge it. Remove it first (dpkg --purge recd) or run the test elsewhere"
fi
remove_everything
rm -rf "$work"
mkdir -p "$work"

step "1. cpack builds the .deb"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log"; die "cpack failed"; }
deb=$(ls "$work"/pkg/recd_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { cat "$work/cpack.log"; die "cpack made no recd_*.deb"; }
dpkg-deb -c "$deb" >"$work/contents"
for path in ./usr/bin/recd ./usr/bin/recctl ./usr/share/bash-completion/completions/recctl \
    ./usr/share/man/man1/recd.1 ./usr/share/man/man1/recctl.1 ./usr/lib/systemd/user/recd.service \
    ./etc/X11/Xsession.d/90recd ./etc/xdg/autostart/recd.desktop ./etc/recd/recd.toml; do
    grep -q " $path\$" "$work/contents" || problem "the package lacks $path"
done
grep -q '^drwx-wx-wt root/root .* \./var/lib/recd/$' "$work/contents" ||
    problem "the package's /var/lib/recd is not root's with mode 1733: $(grep ' ./var/lib/recd/$' "$work/contents")"
for script in postinst postrm; do
    dpkg-deb -I "$deb" "$script" | grep -q 'deb-systemd-helper --user' || problem "the package's $script does not (un)register recd.service"
done
conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null)
for f in /etc/recd/recd.toml /etc/X11/Xsession.d/90recd /etc/xdg/autostart/recd.desktop; do
    grep -qx "$f" <<<"$conffiles" || problem "$f is not a conffile"
done
dpkg-deb -f "$deb" Depends | grep -q libavcodec || problem "Depends lacks FFmpeg's libraries: $(dpkg-deb -f "$deb" Depends)"

step "2. dpkg installs it; the policy goes into /etc/recd/recd.toml"
touch "$marker"
dpkg_waiting -i --force-confnew "$deb" || { cat "$work/dpkg.log"; die "dpkg -i failed"; }
[ "$(stat -c '%U %a' /var/lib/recd)" = "root 1733" ] || problem "/var/lib/recd is $(stat -c '%U %a' /var/lib/recd), not root 1733"
grep -qx 'ExecStart=/usr/bin/recd --session' /usr/lib/systemd/user/recd.service ||
    problem "recd.service does not start /usr/bin/recd --session"
grep -q 'setsid -f /usr/bin/recd --session' /etc/X11/Xsession.d/90recd || problem "90recd does not start /usr/bin/recd"
wants=/etc/systemd/user/graphical-session.target.wants/recd.service
[ "$(readlink "$wants")" = /usr/lib/systemd/user/recd.service ] || problem "recd.service is not enabled for every user: $wants -> $(readlink "$wants")"
if command -v systemctl >/dev/null; then
    enabled=$(systemctl --global is-enabled recd.service 2>&1)
    [ "$enabled" = enabled ] || problem "systemctl --global is-enabled recd.service: $enabled"
fi
cat >/etc/recd/recd.toml <<EOF
[video]
fps = 10
[autostart]
record = true
exclude_groups = ["$exempt"]
directory = "/var/lib/recd/{user}"
EOF

step "3. three users log in, each on an X display of their own"
groupadd "$exempt" || die "groupadd $exempt"
for u in $users; do
    extra=""
    [ "$u" = recdtest-c ] && extra="-G $exempt"
    # shellcheck disable=SC2086
    useradd -m -s /bin/sh $extra "$u" || die "useradd $u"
    sh "$fixtures/xvfb_start.sh" "$work/xvfb-$u" "$pattern" 640x360 >/dev/null || die "Xvfb for $u"
done
# b's own config changes its settings but not the administrator's policy.
mkdir -p /home/recdtest-b/.config/recd
printf '[video]\nfps = 8\n[autostart]\nrecord = false\n' >/home/recdtest-b/.config/recd/recd.toml
chown -R recdtest-b: /home/recdtest-b/.config

display_of() { cat "$work/xvfb-$1/display"; }
# COMMAND... as user $1 with what a display manager gives a session: no XDG_RUNTIME_DIR here,
# as without a systemd-logind session.
as_user() {
    local u=$1
    shift
    setpriv --reuid="$u" --regid="$u" --init-groups -- env -i HOME="/home/$u" USER="$u" \
        LOGNAME="$u" SHELL=/bin/sh PATH=/usr/local/bin:/usr/bin:/bin DISPLAY="$(display_of "$u")" "$@"
}
for u in $users; do
    # /bin/true as the session program: the hook must have started recd, detached, by the
    # time Xsession execs it.
    as_user "$u" /etc/X11/Xsession /bin/true >/dev/null 2>&1 || problem "$u: /etc/X11/Xsession failed"
done
for u in $users; do
    up=""
    for _ in $(seq 100); do
        recctl --user "$u" ping >/dev/null 2>&1 && { up=1; break; }
        sleep 0.1
    done
    [ -n "$up" ] || die "$u: no recd answers on $(socket_dir "$u")/recd.sock after the login"
done

step "4. one recd per user, each recording its own display into its own directory"
# The autostart recording starts just after recd listens: wait for it.
status_of() { recctl --user "$1" --json status 2>/dev/null; }
for u in recdtest-a recdtest-b; do
    for _ in $(seq 100); do
        [ "$(status_of "$u" | jq -r '.sessions[0].state // empty')" = recording ] && break
        sleep 0.1
    done
done
sleep 2  # a couple of seconds of picture in each file
for u in $users; do
    uid=$(id -u "$u")
    pid=$(recd_pid "$u")
    # By executable: recd's threads (the main one included) carry their own names.
    count=0
    for p in $(pids_of "$uid"); do [ "$(readlink "/proc/$p/exe")" = /usr/bin/recd ] && count=$((count + 1)); done
    [ "$count" -eq 1 ] || problem "$u runs $count recd processes, not 1"
    status=$(status_of "$u")
    [ "$(jq -r .daemon.pid <<<"$status")" = "$pid" ] || problem "$u: the recd answering is not the lock's pid $pid: $status"
    [ "$(jq -r .daemon.socket <<<"$status")" = "/tmp/recd-$uid/recd.sock" ] || problem "$u: socket $(jq -r .daemon.socket <<<"$status")"
    [ "$(stat -c '%U %a' "/tmp/recd-$uid/recd.sock")" = "$u 600" ] || problem "$u: socket is $(stat -c '%U %a' "/tmp/recd-$uid/recd.sock")"
    [ "$(stat -c '%U %a' "/tmp/recd-$uid")" = "$u 700" ] || problem "$u: socket directory is $(stat -c '%U %a' "/tmp/recd-$uid")"
    log=/home/$u/.local/state/recd/recd.log
    [ -s "$log" ] || problem "$u: no session log $log"
    if [ "$u" = recdtest-c ]; then
        [ "$(jq '.sessions | length' <<<"$status")" = 0 ] || problem "$u (exempt) is recorded: $status"
        grep -q "autostart: not recording recdtest-c's session: user recdtest-c is a member of $exempt, in autostart.exclude_groups" "$log" ||
            problem "$u: the log does not say why it is not recorded"
        continue
    fi
    session=$(jq -c '.sessions[0]' <<<"$status")
    [ "$(jq -r .state <<<"$session")" = recording ] || problem "$u: the login recording is not recording: $session"
    [ "$(jq -r .display <<<"$session")" = "$(display_of "$u")" ] || problem "$u records $(jq -r .display <<<"$session"), not $(display_of "$u")"
    [[ $(jq -r .file <<<"$session") == /var/lib/recd/$u/*_login.mkv ]] || problem "$u: file $(jq -r .file <<<"$session") is not in /var/lib/recd/$u/"
    [ "$(jq '.audio | length' <<<"$session")" = 0 ] && [ "$(jq '.warnings | length' <<<"$session")" -gt 0 ] ||
        problem "$u: without an audio server the recording is not video only with a warning: $session"
    [ "$(jq '.frames.encoded' <<<"$session")" -gt 0 ] || problem "$u: no frame encoded: $session"
    [ "$(stat -c '%U %a' "/var/lib/recd/$u")" = "$u 700" ] || problem "$u: /var/lib/recd/$u is $(stat -c '%U %a' "/var/lib/recd/$u")"
    grep -q "autostart: recording $u's session on $(display_of "$u")" "$log" || problem "$u: the log does not say it records"
done
grep -q '\[autostart\] ignored' /home/recdtest-b/.local/state/recd/recd.log ||
    problem "recdtest-b: its own [autostart] is not reported as ignored"

# XDG autostart starts recd again in the same session (a desktop that runs both): it must see
# the running one and exit 0 at once, quietly.
exec_line=$(sed -n 's/^Exec=//p' /etc/xdg/autostart/recd.desktop)
declare -A pids
for u in $users; do pids[$u]=$(recd_pid "$u"); done
pid_a=${pids[recdtest-a]}
# shellcheck disable=SC2086
as_user recdtest-a $exec_line >"$work/second.out" 2>"$work/second.err" &
second=$!
for _ in $(seq 100); do alive "$second" || break; sleep 0.1; done
if alive "$second"; then
    kill "$second"
    problem "a second recd --session did not exit"
else
    wait "$second" || problem "a second recd --session exited $?, not 0: $(cat "$work/second.err")"
    grep -q "already runs for this session" "$work/second.err" || problem "a second recd --session did not say why it exits: $(cat "$work/second.err")"
fi
[ "$(recd_pid recdtest-a)" = "$pid_a" ] && alive "$pid_a" || problem "the second start disturbed the running recd"

# Each user reaches their own recd; a cannot reach b's, even naming its socket.
as_user recdtest-a recctl ping >/dev/null 2>&1 || problem "recdtest-a's recctl does not reach its own recd"
as_user recdtest-a recctl --socket "$(socket_dir recdtest-b)/recd.sock" ping >"$work/cross.out" 2>&1 &&
    problem "recdtest-a reached recdtest-b's recd: $(cat "$work/cross.out")"
as_user recdtest-a recctl --user recdtest-b ping >"$work/cross.out" 2>&1 &&
    problem "recdtest-a reached recdtest-b's recd with --user: $(cat "$work/cross.out")"

step "5. the sessions end; every recording is finalized"
display_a=$(display_of recdtest-a)
sh "$fixtures/xvfb_stop.sh" "$work/xvfb-recdtest-a"  # a's X server exits
kill -HUP "${pids[recdtest-b]}"                      # b's session sends the logout's SIGHUP
kill -TERM "${pids[recdtest-c]}"
for u in $users; do
    pid=${pids[$u]}
    for _ in $(seq 200); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && problem "$u: recd (pid $pid) still runs 20 s after its session ended"
    [ -e "$(socket_dir "$u")/recd.sock" ] && problem "$u: the socket is left behind"
    grep -q "recd exits: every recording is finalized" "/home/$u/.local/state/recd/recd.log" ||
        problem "$u: recd did not say it finalized everything"
done
grep -q "the X server of display $display_a went away" \
    /home/recdtest-a/.local/state/recd/recd.log || problem "recdtest-a: recd did not notice its X server go"

for u in recdtest-a recdtest-b; do
    files=$(ls /var/lib/recd/"$u"/*.mkv 2>/dev/null)
    [ "$(wc -w <<<"$files")" -eq 1 ] || { problem "$u: not one file in /var/lib/recd/$u: $files"; continue; }
    file=$files
    [ "$(stat -c '%U %a' "$file")" = "$u 600" ] || problem "$file is $(stat -c '%U %a' "$file")"
    reason=$(jq -r '.end_reason // empty' "$file.json" 2>/dev/null)
    echo "$file: end_reason \"$reason\""
    case "$u:$reason" in
        recdtest-b:stopped) ;;
        # The X server's exit reaches the capture and recd's watch at the same instant: the file
        # is finalized either way, and says which saw it first.
        recdtest-a:stopped | "recdtest-a:failed: DISPLAY_LOST") ;;
        *) problem "$file.json: end_reason \"$reason\"" ;;
    esac
    probe=$(ffprobe -v error -show_entries stream=codec_name,width,height,r_frame_rate \
        -show_entries format=nb_streams,duration -of json "$file")
    fps=10
    [ "$u" = recdtest-b ] && fps=8  # b's own [video]
    [ "$(jq -r '.streams[0] | "\(.codec_name) \(.width)x\(.height) \(.r_frame_rate)"' <<<"$probe")" = "h264 640x360 $fps/1" ] ||
        problem "$file: $probe"
    [ "$(jq -r .format.nb_streams <<<"$probe")" = 1 ] || problem "$file has audio: $probe"
    # Finalized: the length is in the header (a file cut short has none).
    awk -v d="$(jq -r '.format.duration // 0' <<<"$probe")" 'BEGIN { exit !(d >= 1.5) }' ||
        problem "$file: duration in the header $(jq -r .format.duration <<<"$probe"), expected >= 1.5 s"
    errors=$(ffmpeg -nostdin -v error -i "$file" -f null - 2>&1)
    [ -z "$errors" ] || problem "$file does not decode cleanly: $errors"
done
[ -z "$(ls -A /var/lib/recd/recdtest-c 2>/dev/null)" ] || problem "the exempt user's recording directory is not empty"

step "6. dpkg --purge removes the package and keeps the recordings"
dpkg_waiting --purge recd || { cat "$work/dpkg.log"; die "dpkg --purge recd failed"; }
rm -f "$marker"
for path in /usr/bin/recd /usr/lib/systemd/user/recd.service /etc/X11/Xsession.d/90recd \
    /etc/xdg/autostart/recd.desktop /etc/recd/recd.toml "$wants"; do
    [ -e "$path" ] || [ -L "$path" ] && problem "$path is left after the purge"
done
ls /var/lib/recd/recdtest-a/*.mkv >/dev/null 2>&1 || problem "the purge took the recordings with it"

[ $fail -eq 0 ] && echo "PASS"
exit $fail
