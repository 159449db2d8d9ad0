// The pipeline's Windows files that need no FFmpeg, run for real (under Wine in CI): recordings
// and sidecars created only where nothing is, durable writes, the disk guard's free space, the
// open-files journal, and the on_file_closed hook started with CreateProcessW.
#include <windows.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/hook.hpp"
#include "daemon/mux/file_io.hpp"
#include "daemon/mux/output_file.hpp"
#include "daemon/mux/sidecar.hpp"
#include "daemon/open_files.hpp"
#include "daemon/process.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const char* name) {
    auto dir = fs::temp_directory_path() / (std::string("recd-windows-") + name + "-" +
                                            std::to_string(rec::current_process_id()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string contents(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a new file is created where nothing is, never over a file", "[pipeline-files]") {
    const auto dir = fresh_dir("create");
    auto file = rec::WritableFile::create_new(dir / "a.mkv");
    REQUIRE(file);
    auto again = rec::WritableFile::create_new(dir / "a.mkv");
    CHECK_FALSE(again);
    CHECK(again.error_number() == EEXIST);
    CHECK_FALSE(again.error_text().empty());
    file.close();  // a directory with an open file in it cannot go
    fs::remove_all(dir);
}

TEST_CASE("writes, seeks back, knows its size and syncs", "[pipeline-files]") {
    const auto dir = fresh_dir("write");
    {
        auto file = rec::WritableFile::create_new(dir / "a.bin");
        REQUIRE(file);
        REQUIRE(file.write_all("header..body", 12));
        CHECK(file.size() == 12);
        CHECK(file.seek(0, SEEK_SET) == 0);  // a muxer rewrites its header in place
        REQUIRE(file.write_all("HEADER", 6));
        CHECK(file.seek(0, SEEK_END) == 12);
        CHECK(file.sync());
    }
    CHECK(contents(dir / "a.bin") == "HEADER..body");
    fs::remove_all(dir);
}

TEST_CASE("recording files get the next free name, the sidecar's included", "[pipeline-files]") {
    const auto dir = fresh_dir("names") / "sub";  // created on the way
    const rec::OutputName name{"{name}", "rec", "s1", "mkv"};
    {
        auto first = rec::create_output_file(dir, name);
        CHECK(first.path == dir / "rec.mkv");
        std::ofstream(dir / "rec-2.mkv.json") << "{}";  // a sidecar without its file
        auto second = rec::create_output_file(dir, name);
        CHECK(second.path == dir / "rec-3.mkv");
    }
    fs::remove_all(dir.parent_path());
}

TEST_CASE("an output directory that cannot be made is OUTPUT_FAILED naming it",
          "[pipeline-files]") {
    const auto dir = fresh_dir("blocked");
    std::ofstream(dir / "file") << "a file where the directory should be";
    try {
        rec::create_output_file(dir / "file" / "sub", {"{name}", "rec", "s1", "mkv"});
        FAIL("no error");
    } catch (const rec::Error& e) {
        CHECK(e.code() == rec::ErrorCode::output_failed);
        CHECK_THAT(e.what(), Catch::Contains("file"));
    }
    fs::remove_all(dir);
}

TEST_CASE("a file is replaced whole, and the sidecar is written so", "[pipeline-files]") {
    const auto dir = fresh_dir("replace");
    std::ofstream(dir / "old") << "old";
    std::ofstream(dir / "new") << "new";
    CHECK(rec::replace_file(dir / "new", dir / "old").empty());
    CHECK(contents(dir / "old") == "new");
    CHECK_FALSE(fs::exists(dir / "new"));
    CHECK_FALSE(rec::replace_file(dir / "missing", dir / "old").empty());

    CHECK(rec::write_sidecar(dir / "rec.mkv", {{"seq", 1}}).empty());
    CHECK(rec::write_sidecar(dir / "rec.mkv", {{"seq", 2}}).empty());  // over the first
    CHECK(rec::ipc::Json::parse(contents(dir / "rec.mkv.json"))["seq"] == 2);
    CHECK_FALSE(fs::exists(dir / "rec.mkv.json.tmp"));
    fs::remove_all(dir);
}

TEST_CASE("free space is told for a directory not made yet", "[pipeline-files]") {
    const auto dir = fresh_dir("free");
    const auto free = rec::free_bytes(dir / "not" / "yet");
    REQUIRE(free);
    CHECK(*free > 0);
    fs::remove_all(dir);
}

TEST_CASE("the open-files journal reports what a recd with this pid left", "[pipeline-files]") {
    const auto dir = fresh_dir("journal");
    {
        rec::OpenFiles writing(dir);
        writing.add("C:\\recordings\\a.mkv");
        writing.add("C:\\recordings\\b.mkv");
        writing.remove("C:\\recordings\\b.mkv");  // finished
    }
    // A later recd with the same pid (only this one runs here) counts as a predecessor.
    rec::OpenFiles next(dir);
    const auto unfinished = next.recover();
    REQUIRE(unfinished.size() == 1);
    CHECK(unfinished[0].file == "C:\\recordings\\a.mkv");
    CHECK_FALSE(unfinished[0].exists);
    CHECK(unfinished[0].pid == rec::current_process_id());
    CHECK(next.recover().empty());  // reported once
    fs::remove_all(dir);
}

TEST_CASE("processes: this one runs, id 0 is never a recd", "[pipeline-files]") {
    CHECK(rec::process_running(rec::current_process_id()));
    CHECK_FALSE(rec::process_running(0));
    CHECK_FALSE(rec::machine_name().empty());
}

TEST_CASE("a hook's path is one argument of the command line", "[pipeline-files]") {
    CHECK(rec::quote_hook_argument("C:\\Videos\\my rec.mkv") == "\"C:\\Videos\\my rec.mkv\"");
    // Backslashes before the closing quote are doubled, else they would escape it.
    CHECK(rec::quote_hook_argument("C:\\dir\\") == "\"C:\\dir\\\\\"");
    CHECK(rec::quote_hook_argument("a\\\"b") == "\"a\\\\\\\"b\"");
}

TEST_CASE("a hook runs without a shell and its exit code is kept", "[pipeline-files]") {
    CHECK(rec::run_hook_command("cmd.exe /c exit 3") == 3);
    CHECK(rec::run_hook_command("cmd.exe /c exit 0") == 0);
    CHECK(rec::run_hook_command("recd-no-such-program.exe x") == -1);
    // The path arrives whole, spaces and all, as the program's own argument.
    const auto dir = fresh_dir("hook");
    const auto out = dir / "seen.txt";
    const std::string command = "cmd.exe /c echo " + rec::quote_hook_argument("C:\\a b\\c.mkv") +
                                "> " + rec::quote_hook_argument(rec::utf8(out));
    CHECK(rec::run_hook_command(command) == 0);
    CHECK(contents(out).find("\"C:\\a b\\c.mkv\"") != std::string::npos);
    fs::remove_all(dir);
}
