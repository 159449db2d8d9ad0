#include "events.hpp"

#include <fmt/chrono.h>

#include <chrono>

namespace rec {

void Events::publish(ipc::Json event) {
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    event["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
    boost::asio::post(io_, [this, line = event.dump() + "\n"] {
        std::erase_if(subscribers_, [&](const PushFn& push) { return !push(line); });
    });
}

}  // namespace rec
