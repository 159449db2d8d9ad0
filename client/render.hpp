#pragma once
// Human text for recd's replies. Called by recctl's main (one thread) once a reply arrived.
// Any reply shape is accepted: a missing or mistyped field prints as "?", never throws.
#include <string>
#include <string_view>

#include "common/ipc/protocol.hpp"

namespace rec::recctl {

// The text for a successful reply to `cmd` (the protocol command that was sent), one or more
// lines, each ending in '\n'.
std::string render(std::string_view cmd, const ipc::Json& reply);

// `recctl status --watch`: a table of the sessions in `now`, with rates (frames per second,
// bitrate) from the change since `before` (null on the first refresh), `interval` s apart.
std::string render_watch(const ipc::Json& now, const ipc::Json& before, double interval);

// One line for an event (`recctl events`), ending in '\n'.
std::string render_event(const ipc::Json& event);

// "CODE: message" for a reply that is not ok.
std::string error_text(const ipc::Json& reply);

}  // namespace rec::recctl
