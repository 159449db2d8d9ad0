// Protocol v1 parsing and replies (common/ipc/protocol.*), as docs/protocol.md states them.
#include <catch2/catch.hpp>

#include "common/ipc/protocol.hpp"

using rec::ErrorCode;
using rec::ipc::Json;

namespace {

// The rec::Error that `f` throws; fails the test if it throws none.
template <class F>
rec::Error error_of(F&& f) {
    try {
        f();
    } catch (const rec::Error& e) {
        return e;
    }
    FAIL("no rec::Error was thrown");
    return rec::Error(ErrorCode::internal, "");
}

rec::Error request_error(const std::string& line, Json& id) {
    return error_of([&] { rec::ipc::parse_request(line, id); });
}

rec::Error region_error(const Json& value) {
    return error_of([&] { rec::ipc::parse_region(value); });
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("parse_request reads a valid request") {
    Json id;
    auto r = rec::ipc::parse_request(R"({"v":1,"id":7,"cmd":"start","fps":30})", id);
    CHECK(r.cmd == "start");
    CHECK(r.id == 7);
    CHECK(id == 7);
    CHECK(r.body["fps"] == 30);
}

TEST_CASE("parse_request echoes any id and takes a missing v as 1") {
    Json id;
    CHECK(rec::ipc::parse_request(R"({"id":"abc","cmd":"list"})", id).id == "abc");
    CHECK(rec::ipc::parse_request(R"({"id":{"n":[1,2]},"cmd":"list"})", id).id ==
          Json{{"n", {1, 2}}});
    Json fresh;
    auto r = rec::ipc::parse_request(R"({"cmd":"list"})", fresh);
    CHECK(r.id.is_null());
    CHECK(fresh.is_null());
}

TEST_CASE("parse_request rejects what is not a JSON object as BAD_REQUEST") {
    for (const char* line : {"", "not json", "{\"cmd\":", "[1,2]", "\"status\"", "42", "null"}) {
        INFO(line);
        Json id;
        CHECK(request_error(line, id).code() == ErrorCode::bad_request);
    }
    Json id;
    CHECK(contains(request_error("[1]", id).what(), "array"));
}

TEST_CASE("parse_request refuses deep nesting before it parses (the io thread's stack)") {
    const auto nested = [](int depth) {
        return R"({"cmd":"ping","id":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
    };
    Json id;
    CHECK(rec::ipc::parse_request(nested(63), id).cmd == "ping");  // the body is level 1
    for (int depth : {64, 32000}) {
        Json deep_id;
        CHECK(request_error(nested(depth), deep_id).code() == ErrorCode::bad_request);
        CHECK(deep_id.is_null());
    }
    CHECK(rec::ipc::parse_request(R"({"cmd":"ping","id":"[[[[{{{{\"[[[["})", id).cmd == "ping");
}

TEST_CASE("parse_request needs cmd, a string") {
    for (const char* line : {R"({"v":1,"id":3})", R"({"id":3,"cmd":5})", R"({"id":3,"cmd":null})",
                             R"({"id":3,"cmd":["list"]})"}) {
        INFO(line);
        Json id;
        auto e = request_error(line, id);
        CHECK(e.code() == ErrorCode::bad_request);
        CHECK(contains(e.what(), "cmd"));
        CHECK(id == 3);  // captured for the error reply
    }
}

TEST_CASE("parse_request rejects another version but keeps the id") {
    for (const char* line : {R"({"v":2,"id":9,"cmd":"status"})", R"({"v":"1","id":9,"cmd":"x"})",
                             R"({"v":null,"id":9})", R"({"v":0,"id":9,"cmd":"status"})"}) {
        INFO(line);
        Json id;
        auto e = request_error(line, id);
        CHECK(e.code() == ErrorCode::unsupported_version);
        CHECK(id == 9);
    }
}

TEST_CASE("ok_reply is one line: v, id, ok and the fields") {
    auto line = rec::ipc::ok_reply(5, {{"session", {{"id", "s1"}}}});
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    auto reply = Json::parse(line);
    CHECK(reply == Json{{"v", 1}, {"id", 5}, {"ok", true}, {"session", {{"id", "s1"}}}});
    CHECK(Json::parse(rec::ipc::ok_reply(nullptr)) ==
          Json{{"v", 1}, {"id", nullptr}, {"ok", true}});
}

TEST_CASE("ok_reply survives strings that are not UTF-8") {
    auto line = rec::ipc::ok_reply("id", {{"file", "bad \xff byte"}});
    CHECK(line.back() == '\n');
    CHECK(Json::parse(line)["ok"] == true);
}

TEST_CASE("error_reply carries the stable code and the message") {
    auto line = rec::ipc::error_reply("x", ErrorCode::not_found, "no session s4");
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    CHECK(Json::parse(line) ==
          Json{{"v", 1},
               {"id", "x"},
               {"ok", false},
               {"error", {{"code", "NOT_FOUND"}, {"message", "no session s4"}}}});
}

TEST_CASE("get_string, get_bool: absent or null is nullopt, a wrong type names the key") {
    Json body = {{"s", "text"}, {"b", true}, {"n", nullptr}, {"i", 3}};
    CHECK(rec::ipc::get_string(body, "s") == "text");
    CHECK_FALSE(rec::ipc::get_string(body, "missing"));
    CHECK_FALSE(rec::ipc::get_string(body, "n"));
    auto e = error_of([&] { rec::ipc::get_string(body, "i"); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(contains(e.what(), "i must be a string"));

    CHECK(rec::ipc::get_bool(body, "b") == true);
    CHECK_FALSE(rec::ipc::get_bool(body, "n"));
    for (const char* key : {"s", "i"}) {
        auto b = error_of([&] { rec::ipc::get_bool(body, key); });
        CHECK(b.code() == ErrorCode::invalid_argument);
        CHECK(contains(b.what(), std::string(key) + " must be true or false"));
    }
}

TEST_CASE("get_int accepts integers in range, bounds included") {
    Json body = {{"lo", 1}, {"hi", 240}, {"neg", -5}, {"null", nullptr}};
    CHECK(rec::ipc::get_int(body, "lo", 1, 240) == 1);
    CHECK(rec::ipc::get_int(body, "hi", 1, 240) == 240);
    CHECK(rec::ipc::get_int(body, "neg", -10, 10) == -5);
    CHECK_FALSE(rec::ipc::get_int(body, "missing", 1, 240));
    CHECK_FALSE(rec::ipc::get_int(body, "null", 1, 240));
}

TEST_CASE("get_int rejects wrong types and out-of-range values, naming both") {
    auto body = Json::parse(
        R"({"zero":0,"big":241,"float":30.5,"text":"30","flag":true,"list":[1],
            "huge":18446744073709551615})");
    for (const char* key : {"zero", "big", "float", "text", "flag", "list"}) {
        INFO(key);
        auto e = error_of([&] { rec::ipc::get_int(body, key, 1, 240); });
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(contains(e.what(), std::string(key) + " must be an integer 1..240, got "));
    }
    CHECK(contains(error_of([&] { rec::ipc::get_int(body, "zero", 1, 240); }).what(), "got 0"));
    // An unsigned value beyond int64 must not wrap around into the range.
    auto e = error_of([&] { rec::ipc::get_int(body, "huge", -10, 10); });
    CHECK(e.code() == ErrorCode::invalid_argument);
}

TEST_CASE("parse_region reads WxH+X+Y and the object form alike") {
    rec::ipc::Region expected{10, 20, 640, 480};
    CHECK(rec::ipc::parse_region("640x480+10+20") == expected);
    CHECK(rec::ipc::parse_region({{"x", 10}, {"y", 20}, {"width", 640}, {"height", 480}}) ==
          expected);
    CHECK(rec::ipc::parse_region("2x2+0+0") == rec::ipc::Region{0, 0, 2, 2});
    CHECK(rec::ipc::parse_region("16384x16384+0+0").width == 16384);
    CHECK(rec::ipc::parse_region(rec::ipc::to_json(expected)) == expected);
}

TEST_CASE("parse_region rejects malformed geometry strings") {
    for (const char* text : {"", "640x480", "640x480+0", "640x480+0+0+0", "640x480-10+0",
                             "-640x480+0+0", "640X480+0+0", " 640x480+0+0", "640x480+0+0 ",
                             "axb+c+d", "123456x480+0+0", "640x480+0+123456", "640.5x480+0+0"}) {
        INFO('"' << text << '"');
        auto e = region_error(text);
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(contains(e.what(), "WxH+X+Y"));
    }
}

TEST_CASE("parse_region rejects sizes outside 2..16384") {
    for (const char* text :
         {"0x0+0+0", "1x480+0+0", "640x1+0+0", "16385x480+0+0", "640x99999+0+0"}) {
        INFO(text);
        auto e = region_error(text);
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(contains(e.what(), "region size must be 2..16384"));
    }
}

TEST_CASE("parse_region rejects incomplete or mistyped objects") {
    const Json good = {{"x", 0}, {"y", 0}, {"width", 640}, {"height", 480}};
    for (const char* key : {"x", "y", "width", "height"}) {
        INFO(key);
        auto missing = good;
        missing.erase(key);
        CHECK(contains(region_error(missing).what(), std::string("region needs \"") + key));
        auto null = good;
        null[key] = nullptr;
        CHECK(contains(region_error(null).what(), std::string("region needs \"") + key));
        auto text = good;
        text[key] = "10";
        CHECK(contains(region_error(text).what(), std::string(key) + " must be an integer"));
        auto too_big = good;
        too_big[key] = 16385;
        CHECK(region_error(too_big).code() == ErrorCode::invalid_argument);
    }
    auto negative = good;
    negative["x"] = -1;
    CHECK(region_error(negative).code() == ErrorCode::invalid_argument);
    auto narrow = good;
    narrow["width"] = 1;
    CHECK(contains(region_error(narrow).what(), "width must be an integer 2..16384"));
}

TEST_CASE("parse_region rejects other JSON types") {
    for (const Json& value : {Json(nullptr), Json(640), Json(true), Json::array({640, 480})}) {
        INFO(value.dump());
        auto e = region_error(value);
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(contains(e.what(), "region must be"));
    }
}
