#include "protocol.hpp"

#include <fmt/format.h>

#include <regex>

namespace rec::ipc {
namespace {

[[noreturn]] void invalid(const std::string& message) {
    throw Error(ErrorCode::invalid_argument, message);
}

const char* type_name(const Json& value) { return value.type_name(); }

// Copying, comparing and printing a Json recurse once per level of nesting, and a 64 KiB line
// can nest 32 000 levels: copying such an id took 4..8 MB of the io thread's stack in a release
// recd and overflowed it under ASan (tests/fuzz). Requests nest 2 levels; ids a few at most.
constexpr int max_nesting = 64;

// True when `text` nests arrays/objects deeper than max_nesting. Brackets inside strings do not
// count; for text that is not JSON the answer does not matter (it is refused either way).
bool nests_too_deep(std::string_view text) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if ((c == '[' || c == '{') && ++depth > max_nesting) {
            return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

}  // namespace

Request parse_request(std::string_view line, Json& id_out) {
    if (nests_too_deep(line))
        throw Error(ErrorCode::bad_request,
                    fmt::format("a request may nest at most {} levels", max_nesting));
    Json body = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) throw Error(ErrorCode::bad_request, "the request is not valid JSON");
    if (!body.is_object())
        throw Error(ErrorCode::bad_request,
                    fmt::format("a request must be a JSON object, got {}", type_name(body)));
    if (auto it = body.find("id"); it != body.end()) id_out = *it;
    if (auto it = body.find("v"); it != body.end() && *it != Json(protocol_version))
        throw Error(ErrorCode::unsupported_version,
                    fmt::format("protocol version {} is not supported; this recd speaks v{}",
                                it->dump(), protocol_version));
    auto cmd = body.find("cmd");
    if (cmd == body.end() || !cmd->is_string())
        throw Error(ErrorCode::bad_request, "a request needs \"cmd\", a string");
    return Request{id_out, cmd->get<std::string>(), std::move(body)};
}

std::string ok_reply(const Json& id, Json fields) {
    Json reply = {{"v", protocol_version}, {"id", id}, {"ok", true}};
    reply.update(fields);
    return reply.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string error_reply(const Json& id, ErrorCode code, std::string_view message) {
    Json reply = {{"v", protocol_version},
                  {"id", id},
                  {"ok", false},
                  {"error", {{"code", to_string(code)}, {"message", message}}}};
    return reply.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::optional<std::string> get_string(const Json& body, const char* key) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) invalid(fmt::format("{} must be a string, got {}", key, type_name(*it)));
    return it->get<std::string>();
}

std::optional<int64_t> get_int(const Json& body, const char* key, int64_t min, int64_t max) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::nullopt;
    // An unsigned value above INT64_MAX would wrap to a negative int64_t: reject it first.
    const bool fits =
        it->is_number_integer() && !(it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX);
    if (!fits || it->get<int64_t>() < min || it->get<int64_t>() > max)
        invalid(fmt::format("{} must be an integer {}..{}, got {}", key, min, max, it->dump()));
    return it->get<int64_t>();
}

std::optional<bool> get_bool(const Json& body, const char* key) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean())
        invalid(fmt::format("{} must be true or false, got {}", key, it->dump()));
    return it->get<bool>();
}

Region parse_region(const Json& value) {
    constexpr int max_side = 16384;  // X11's largest screen; bounds the parse, not the display
    Region r;
    if (value.is_string()) {
        static const std::regex geometry(R"((\d{1,5})x(\d{1,5})\+(\d{1,5})\+(\d{1,5}))");
        std::smatch m;
        const auto text = value.get<std::string>();
        if (!std::regex_match(text, m, geometry))
            invalid("region must be WxH+X+Y (e.g. 640x480+0+0), got \"" + text + "\"");
        r = {std::stoi(m[3]), std::stoi(m[4]), std::stoi(m[1]), std::stoi(m[2])};
    } else if (value.is_object()) {
        auto field = [&](const char* key, int min) {
            auto v = get_int(value, key, min, max_side);
            if (!v) invalid(fmt::format("region needs \"{}\"", key));
            return static_cast<int>(*v);
        };
        r = {field("x", 0), field("y", 0), field("width", 2), field("height", 2)};
    } else {
        invalid(fmt::format("region must be \"WxH+X+Y\" or an object, got {}", type_name(value)));
    }
    if (r.width < 2 || r.height < 2 || r.width > max_side || r.height > max_side)
        invalid(fmt::format("region size must be 2..{} on each side, got {}x{}", max_side, r.width,
                            r.height));
    return r;
}

Json to_json(const Region& r) {
    return {{"x", r.x}, {"y", r.y}, {"width", r.width}, {"height", r.height}};
}

}  // namespace rec::ipc
