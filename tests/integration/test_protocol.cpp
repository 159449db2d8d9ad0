// The control protocol spoken directly on the socket (docs/protocol.md): what recctl would never
// send gets the documented error code, and recd keeps serving the same connection.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "recording_checks.hpp"

using namespace rec::test;

namespace {

struct BadRequest {
    std::string line;
    std::string code;
    Json id;  // echoed id; null where the line has none or cannot be parsed
};

const std::vector<BadRequest> bad_requests = {
    {R"({"v":1,"id":1,"cmd":)", "BAD_REQUEST", nullptr},
    {"this is not json", "BAD_REQUEST", nullptr},
    {R"([1,2,3])", "BAD_REQUEST", nullptr},
    {R"("status")", "BAD_REQUEST", nullptr},
    {R"({"v":1,"id":4})", "BAD_REQUEST", 4},
    {R"({"v":1,"id":5,"cmd":7})", "BAD_REQUEST", 5},
    {R"({"v":1,"id":"six","cmd":"fly"})", "UNKNOWN_COMMAND", "six"},
    {R"({"v":2,"id":7,"cmd":"status"})", "UNSUPPORTED_VERSION", 7},
    {R"({"v":1,"id":8,"cmd":"start","fps":"x"})", "INVALID_ARGUMENT", 8},
    {R"({"v":1,"id":9,"cmd":"start","fps":0})", "INVALID_ARGUMENT", 9},
    {R"({"v":1,"id":10,"cmd":"start","fps":241})", "INVALID_ARGUMENT", 10},
    {R"({"v":1,"id":11,"cmd":"start","region":"big"})", "INVALID_ARGUMENT", 11},
    {R"({"v":1,"id":12,"cmd":"start","region":"64x64+0+0","monitor":"X"})", "INVALID_ARGUMENT", 12},
    {R"({"v":1,"id":13,"cmd":"start","name":".hidden"})", "INVALID_ARGUMENT", 13},
    {R"({"v":1,"id":14,"cmd":"status","session":"s999"})", "NOT_FOUND", 14},
    {R"({"v":1,"id":15,"cmd":"stop","session":"s999"})", "NOT_FOUND", 15},
    {R"({"v":1,"id":16,"cmd":"stop"})", "NOT_FOUND", 16},
};

// A valid request on the same connection still gets a proper answer.
void check_still_serving(RawClient& client) {
    Json reply = client.request(R"({"v":1,"id":"after","cmd":"status"})");
    INFO("status reply: " << reply.dump());
    CHECK(reply.value("ok", false));
    CHECK(reply["id"] == "after");
    CHECK(reply["daemon"].value("protocol", 0) == 1);
}

}  // namespace

TEST_CASE("protocol: bad requests get their error code and the connection keeps serving",
          "[protocol]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RawClient client(box.socket());
    for (const auto& bad : bad_requests) {
        INFO("request: " << bad.line);
        Json reply = client.request(bad.line);
        INFO("reply: " << reply.dump());
        REQUIRE(reply.is_object());
        CHECK(reply.value("v", 0) == 1);
        CHECK(reply["id"] == bad.id);
        CHECK(reply.value("ok", true) == false);
        CHECK(reply["error"].value("code", "") == bad.code);
        CHECK_FALSE(reply["error"].value("message", "").empty());
        if (bad.code == "INVALID_ARGUMENT" && bad.line.find("\"fps\"") != std::string::npos) {
            CHECK(reply["error"].value("message", "").find("fps") != std::string::npos);
        }
        check_still_serving(client);
    }
    // None of the rejected starts began a recording.
    Json list = client.request(R"({"v":1,"id":"list","cmd":"list"})");
    INFO("list reply: " << list.dump());
    CHECK(list["sessions"] == Json::array());
}

TEST_CASE("protocol: requests on one connection are answered in order with their ids",
          "[protocol]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RawClient client(box.socket());
    // Two requests in one write; the second without "v", which means version 1.
    REQUIRE(
        client.send("{\"v\":1,\"id\":{\"n\":1},\"cmd\":\"ping\",\"extra\":true}\n"
                    "{\"id\":\"two\",\"cmd\":\"list\"}\n"));
    auto first = client.read_line();
    auto second = client.read_line();
    REQUIRE(first);
    REQUIRE(second);
    INFO(*first << "\n" << *second);
    Json a = Json::parse(*first);
    Json b = Json::parse(*second);
    CHECK(a["id"] == Json{{"n", 1}});
    CHECK(a.value("ok", false));
    CHECK(a["daemon"].value("pid", 0) == recd.process().pid());
    CHECK(a["daemon"].value("socket", "") == box.socket().string());
    CHECK(b["id"] == "two");
    CHECK(b.value("ok", false));
    CHECK(b["sessions"].is_array());
}

TEST_CASE("protocol: a line over 64 KiB gets TOO_LARGE and the connection is closed",
          "[protocol]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    {
        RawClient client(box.socket());
        const std::string huge =
            R"({"v":1,"id":1,"cmd":"status","pad":")" + std::string(70 * 1024, 'a') + "\"}\n";
        client.send(huge);  // recd may close before reading it all
        auto line = client.read_line(10s);
        REQUIRE(line);
        INFO("reply: " << *line);
        Json reply = Json::parse(*line, nullptr, false);
        CHECK(reply.value("ok", true) == false);
        CHECK(reply["error"].value("code", "") == "TOO_LARGE");
        CHECK(client.closed_by_peer());
    }
    CHECK(RawClient::pings(box.socket()));
}

TEST_CASE("protocol: a partial line is dropped after 5 s and recd keeps serving", "[protocol]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    RawClient client(box.socket());
    REQUIRE(client.send(R"({"v":1,"id":1,"cmd":)"));
    const auto sent = std::chrono::steady_clock::now();
    CHECK(client.closed_by_peer(9s));
    const double waited = seconds_between(sent, std::chrono::steady_clock::now());
    CAPTURE(waited);
    CHECK(waited >= 4.5);
    CHECK(RawClient::pings(box.socket()));
}

TEST_CASE("protocol: a display that does not exist gives DISPLAY_UNAVAILABLE and recd serves on",
          "[protocol]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    CtlResult start = recctl(box, {"start", "--display", unused_display()});
    INFO(start.describe());
    CHECK(start.code == 1);
    CHECK(start.json.value("ok", true) == false);
    CHECK(start.json["error"].value("code", "") == "DISPLAY_UNAVAILABLE");
    CHECK(recd.process().running());
    CHECK(RawClient::pings(box.socket()));
    // Nothing is recording after the failed start.
    CtlResult list = recctl(box, {"list"});
    INFO(list.describe());
    REQUIRE(list.code == 0);
    for (const Json& session : list.json["sessions"]) {
        CHECK(session.value("state", "") != "recording");
    }
}

TEST_CASE("events: `recctl events` prints each session and file event as it happens",
          "[protocol][events]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    EventLog events(box);
    const std::string id = start_recording(box, {"--region", "160x120+0+0"})["id"];
    std::this_thread::sleep_for(1s);
    REQUIRE(recctl(box, {"split", id}).code == 0);
    std::this_thread::sleep_for(1500ms);
    REQUIRE(recctl(box, {"pause", id}).code == 0);
    REQUIRE(recctl(box, {"resume", id}).code == 0);
    stop_recording(box, id);
    REQUIRE(recctl(box, {"shutdown"}).code == 0);
    const auto code = events.process().wait_for(10s);
    INFO("recctl events: exit " << code.value_or(-1) << "\n"
                                << events.process().out() << events.process().err());
    CHECK(code == 0);  // recd went away: the stream ended, not an error

    const std::vector<Json> lines = events.lines();
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0].value("subscribed", false));  // the reply to subscribe
    std::vector<std::string> kinds;
    std::vector<Json> closed;
    for (size_t i = 1; i < lines.size(); ++i) {
        CHECK(lines[i].value("session", "") == id);
        CHECK(lines[i].contains("time"));
        kinds.push_back(lines[i].value("event", ""));
        if (kinds.back() == "file_closed") closed.push_back(lines[i]);
    }
    const auto count = [&](const char* kind) {
        return std::count(kinds.begin(), kinds.end(), kind);
    };
    CHECK(count("session_started") == 1);
    CHECK(count("file_opened") == 2);
    CHECK(count("session_paused") == 1);
    CHECK(count("session_resumed") == 1);
    CHECK(kinds.back() == "session_stopped");
    REQUIRE(closed.size() == 2);
    CHECK(closed[0].value("end_reason", "") == "split");
    CHECK(closed[1].value("end_reason", "") == "stopped");
    for (const Json& c : closed) CHECK(fs::exists(c.value("file", "")));
}

TEST_CASE("recctl status --watch refreshes every second and ends cleanly on Ctrl-C",
          "[protocol][recctl]") {
    Sandbox box;
    Recd recd(box);
    REQUIRE(recd.wait_ready());
    const std::string id = start_recording(box, {"--region", "160x120+0+0"})["id"];
    Process table({recctl_bin().string(), "status", "--watch"}, box.env(),
                  box.new_file("watch-out"), box.new_file("watch-err"));
    Process json({recctl_bin().string(), "--json", "status", "-w", id}, box.env(),
                 box.new_file("watch-json"), box.new_file("watch-json-err"));
    Process one({recctl_bin().string(), "status", "--watch", id}, box.env(),
                box.new_file("watch-one"), box.new_file("watch-one-err"));
    std::this_thread::sleep_for(3500ms);
    table.signal(SIGINT);
    json.signal(SIGINT);
    one.signal(SIGINT);
    const auto table_code = table.wait_for(5s), json_code = json.wait_for(5s),
               one_code = one.wait_for(5s);
    INFO("table:\n"
         << table.out() << table.err() << "\njson:\n"
         << json.out() << json.err() << "\none session:\n"
         << one.out() << one.err());
    CHECK(table_code == 0);
    CHECK(json_code == 0);
    CHECK(one_code == 0);
    // With an ID: the same table, of that session only.
    CHECK(one.out().find(id + "  recording") != std::string::npos);
    CHECK(one.out().find("kbit/s") != std::string::npos);
    // A table per refresh: the header, then the session with its rates once two are known.
    const std::string out = table.out();
    CHECK(std::count(out.begin(), out.end(), '\n') >= 6);
    CHECK(out.find("DROPPED") != std::string::npos);
    CHECK(out.find(id + "  recording") != std::string::npos);
    CHECK(out.find("kbit/s") != std::string::npos);
    // --json: one status reply per line.
    std::istringstream lines(json.out());
    int replies = 0;
    for (std::string line; std::getline(lines, line); ++replies) {
        const Json reply = Json::parse(line, nullptr, false);
        CHECK(reply.value("ok", false));
        CHECK(reply["session"].value("id", "") == id);
    }
    CHECK(replies >= 3);
    stop_recording(box, id);
}
