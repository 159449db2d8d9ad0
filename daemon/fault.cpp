#include "fault.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

namespace rec::fault {
namespace {

struct Faults {
    std::mutex mutex;
    std::map<std::string, long, std::less<>> remaining;  // calls left before the fault
};

// RECD_FAULT read once; a malformed entry is logged and ignored.
Faults& faults() {
    static Faults* f = [] {
        auto* parsed = new Faults;  // lives as long as the process: threads may call at exit
        const char* env = std::getenv("RECD_FAULT");
        std::istringstream list(env ? env : "");
        for (std::string entry; std::getline(list, entry, ',');) {
            const auto eq = entry.find('=');
            char* end = nullptr;
            const long n = eq == std::string::npos ? 0 : std::strtol(&entry[eq + 1], &end, 10);
            if (n <= 0 || *end != '\0') {
                spdlog::warn("RECD_FAULT: '{}' ignored (expected NAME=N with N >= 1)", entry);
                continue;
            }
            spdlog::warn("RECD_FAULT: {} will fail at call {}", entry.substr(0, eq), n);
            parsed->remaining[entry.substr(0, eq)] = n;
        }
        return parsed;
    }();
    return *f;
}

}  // namespace

bool hit(std::string_view name) {
    Faults& f = faults();
    std::lock_guard lock(f.mutex);
    const auto it = f.remaining.find(name);
    if (it == f.remaining.end() || it->second <= 0) return false;
    return --it->second == 0;
}

}  // namespace rec::fault
