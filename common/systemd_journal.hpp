#pragma once
// What recd can tell about systemd from its environment, without libsystemd: whether its
// standard error is the journal, and whether systemd started it. Asked once by main.
namespace rec {

// True when $JOURNAL_STREAM ("DEVICE:INODE", set by systemd for a service whose StandardError
// is the journal) names the file standard error is: journald then stores each line with its
// own time stamp and reads a "<N>" prefix as the line's priority (sd-daemon(3)).
bool stderr_is_journal();

// True when systemd started this process ($INVOCATION_ID): its output is systemd's to keep.
bool started_by_systemd();

}  // namespace rec
