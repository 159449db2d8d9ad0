// recd's control named pipe under Wine (tests/windows): the real NamedPipeServer, Connection,
// protocol and ipc::Client, serving pipe_server.hpp's SessionBook.
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "common/ipc/client.hpp"
#include "common/win32.hpp"
#include "pipe_server.hpp"

namespace {

using rec::ipc::Json;
using namespace std::chrono_literals;
using rec::test::PipeServer;

Json call(rec::ipc::Client& client, Json request) {
    request["v"] = 1;
    return client.call(request, 5s);
}

}  // namespace

TEST_CASE("named pipe: start, status and stop round trips with their ids") {
    PipeServer pipe;
    rec::ipc::Client client(pipe.path());
    const auto started = call(client, {{"id", 1}, {"cmd", "start"}});
    CHECK(started["id"] == 1);
    REQUIRE(started["ok"] == true);
    const auto session = started["session"]["id"].get<std::string>();
    CHECK(started["session"]["state"] == "recording");

    const auto status = call(client, {{"id", 2}, {"cmd", "status"}});
    CHECK(status["id"] == 2);
    REQUIRE(status["sessions"].size() == 1);
    CHECK(status["sessions"][0]["state"] == "recording");

    const auto stopped = call(client, {{"id", 3}, {"cmd", "stop"}, {"session", session}});
    CHECK(stopped["ok"] == true);
    CHECK(stopped["session"]["state"] == "stopped");

    const auto unknown = call(client, {{"id", 4}, {"cmd", "stop"}, {"session", "s9"}});
    CHECK(unknown["ok"] == false);
    CHECK(unknown["error"]["code"] == "NOT_FOUND");
}

TEST_CASE("named pipe: several clients at once are each answered") {
    PipeServer pipe;
    std::vector<std::future<bool>> clients;
    for (int i = 0; i < 6; ++i)
        clients.push_back(std::async(std::launch::async, [&pipe, i] {
            rec::ipc::Client client(pipe.path());
            for (int n = 0; n < 5; ++n)
                if (call(client, {{"id", i * 100 + n}, {"cmd", "status"}})["id"] != i * 100 + n)
                    return false;
            return true;
        }));
    for (auto& c : clients) CHECK(c.get());
    CHECK(pipe.serving_at_most(0, 5s));
}

TEST_CASE("named pipe: a message over 64 KiB gets TOO_LARGE, is closed, and the server goes on") {
    PipeServer pipe;
    {
        rec::ipc::Client client(pipe.path());
        const auto reply =
            call(client, {{"cmd", "status"}, {"padding", std::string(70 * 1024, 'x')}});
        CHECK(reply["ok"] == false);
        CHECK(reply["error"]["code"] == "TOO_LARGE");
        CHECK_THROWS_AS(call(client, {{"cmd", "status"}}), rec::ipc::Unreachable);
    }
    rec::ipc::Client next(pipe.path());
    CHECK(call(next, {{"cmd", "status"}})["ok"] == true);
}

TEST_CASE("named pipe: a client that disconnects mid-message is dropped, the server goes on") {
    PipeServer pipe;
    {
        const auto raw =
            rec::adopt_handle(CreateFileW(pipe.name.c_str(), GENERIC_READ | GENERIC_WRITE, 0,
                                          nullptr, OPEN_EXISTING, 0, nullptr));
        REQUIRE(raw);
        const char half[] = R"({"v":1,"cmd":"sta)";
        DWORD written = 0;
        REQUIRE(WriteFile(raw.get(), half, sizeof half - 1, &written, nullptr));
    }                                    // closed with half a line sent
    CHECK(pipe.serving_at_most(0, 3s));  // well before the 5 s partial-message timeout
    rec::ipc::Client client(pipe.path());
    CHECK(call(client, {{"cmd", "status"}})["ok"] == true);
}

TEST_CASE("named pipe: a client of a pipe nobody serves is told recd is unreachable") {
    CHECK_THROWS_AS(rec::ipc::Client(L"\\\\.\\pipe\\recd-nobody-here"), rec::ipc::Unreachable);
}

TEST_CASE("named pipe: a client beyond 64 at once is told BUSY, and served once some closed") {
    PipeServer pipe;
    std::vector<std::unique_ptr<rec::ipc::Client>> held;  // connected, never calling
    for (size_t i = 0; i < rec::max_connections; ++i)
        held.push_back(std::make_unique<rec::ipc::Client>(pipe.path()));
    REQUIRE(pipe.serving_at_least(rec::max_connections, 5s));
    {
        rec::ipc::Client extra(pipe.path());
        const auto reply = call(extra, {{"cmd", "status"}});
        CHECK(reply["error"]["code"] == "BUSY");
    }
    held.resize(10);
    REQUIRE(pipe.serving_at_most(10, 5s));
    rec::ipc::Client later(pipe.path());
    CHECK(call(later, {{"cmd", "status"}})["ok"] == true);
}
