#pragma once
// Protocol v1 (docs/protocol.md): newline-delimited JSON requests and replies. Pure functions,
// used by recd's connections and dispatcher (io thread) and by recctl.
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "../error.hpp"

namespace rec::ipc {

using Json = nlohmann::json;

constexpr int protocol_version = 1;
// One message, newline included. Requests are tiny; this bounds what a client can make us hold.
constexpr size_t max_message_bytes = 64 * 1024;
// A client that sends half a line and then nothing is broken or hostile; 5 s is far beyond any
// real client's gap between the bytes of one line.
constexpr std::chrono::seconds partial_message_timeout{5};

struct Request {
    Json id;  // echoed as given; null when absent
    std::string cmd;
    Json body;  // the whole object, for the command's own fields
};

// Parses one line (without its newline). Throws rec::Error with BAD_REQUEST or
// UNSUPPORTED_VERSION; the id, if it could be read, is stored in `id_out` for the error reply.
Request parse_request(std::string_view line, Json& id_out);

// One reply line, newline included.
std::string ok_reply(const Json& id, Json fields = Json::object());
std::string error_reply(const Json& id, ErrorCode code, std::string_view message);

// Typed access to a request's optional fields. A field of the wrong type or out of range
// throws rec::Error(INVALID_ARGUMENT) naming the field and what is allowed.
std::optional<std::string> get_string(const Json& body, const char* key);
std::optional<int64_t> get_int(const Json& body, const char* key, int64_t min, int64_t max);
std::optional<bool> get_bool(const Json& body, const char* key);

struct Region {
    int x = 0, y = 0, width = 0, height = 0;
    bool operator==(const Region&) const = default;
};
// "WxH+X+Y" (as X11 geometry) or {"x","y","width","height"}; throws INVALID_ARGUMENT.
Region parse_region(const Json& value);
Json to_json(const Region& region);

}  // namespace rec::ipc
