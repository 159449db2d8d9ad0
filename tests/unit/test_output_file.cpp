#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "daemon/mux/output_file.hpp"

namespace fs = std::filesystem;
using rec::OutputName;

namespace {
fs::path fresh_dir(const char* name) {
    auto dir = fs::temp_directory_path() /
               (std::string("recd-unit-") + name + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    return dir;
}
}  // namespace

TEST_CASE("file template fills date, time, name and session", "[output]") {
    std::tm t{};
    t.tm_year = 126, t.tm_mon = 10, t.tm_mday = 21, t.tm_hour = 9, t.tm_min = 5, t.tm_sec = 7;
    OutputName n{"{name}_{date}_{time}_{session}", "demo", "s4", "mkv"};
    CHECK(rec::expand_template(n, t) == "demo_2026-11-21_09-05-07_s4");
}

TEST_CASE("output file: directory created, file 0600, existing names never reused", "[output]") {
    auto dir = fresh_dir("create") / "a" / "b";
    OutputName n{"{name}", "rec", "s1", "mkv"};
    auto first = rec::create_output_file(dir, n);
    CHECK(first.path == dir / "rec.mkv");
    struct stat st {};
    REQUIRE(stat(first.path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto second = rec::create_output_file(dir, n);
    CHECK(second.path == dir / "rec-2.mkv");
    CHECK(fs::file_size(first.path) == 0);  // the first was not truncated or replaced
    fs::remove_all(dir.parent_path().parent_path());
}

TEST_CASE("output file: a symlink planted at the name is not followed", "[output]") {
    auto dir = fresh_dir("symlink");
    fs::create_directories(dir);
    auto target = dir / "victim";
    std::ofstream(target) << "keep me";
    fs::create_symlink(target, dir / "rec.mkv");
    auto file = rec::create_output_file(dir, OutputName{"{name}", "rec", "s1", "mkv"});
    CHECK(file.path == dir / "rec-2.mkv");
    std::ifstream in(target);
    std::string text;
    std::getline(in, text);
    CHECK(text == "keep me");
    fs::remove_all(dir);
}

TEST_CASE("output file: an unusable directory is OUTPUT_FAILED naming it", "[output]") {
    auto dir = fresh_dir("blocked");
    fs::create_directories(dir.parent_path());
    std::ofstream(dir) << "a file where the directory should be";
    try {
        rec::create_output_file(dir / "sub", OutputName{"{name}", "rec", "s1", "mkv"});
        FAIL("no error");
    } catch (const rec::Error& e) {
        CHECK(e.code() == rec::ErrorCode::output_failed);
        CHECK_THAT(e.what(), Catch::Contains(dir.string()));
    }
    fs::remove(dir);
}
