#include <catch2/catch.hpp>
#include <thread>

#include "daemon/media/bounded_queue.hpp"

using rec::BoundedQueue;
using rec::Overflow;

TEST_CASE("bounded queue keeps order and drains after close", "[queue]") {
    BoundedQueue<int> q(3, Overflow::drop_newest);
    REQUIRE(q.push(1));
    REQUIRE(q.push(2));
    q.close();
    REQUIRE_FALSE(q.push(3));  // closed: refused, not counted as an overflow
    CHECK(q.dropped() == 0);
    CHECK(q.pop() == 1);
    CHECK(q.pop() == 2);
    CHECK_FALSE(q.pop().has_value());
}

TEST_CASE("bounded queue drop_newest refuses the new item and counts it", "[queue]") {
    BoundedQueue<int> q(2, Overflow::drop_newest);
    q.push(1);
    q.push(2);
    CHECK_FALSE(q.push(3));
    CHECK(q.dropped() == 1);
    q.close();
    CHECK(q.pop() == 1);
    CHECK(q.pop() == 2);
    CHECK_FALSE(q.pop());
}

TEST_CASE("bounded queue drop_oldest makes room and counts the loss", "[queue]") {
    BoundedQueue<int> q(2, Overflow::drop_oldest);
    q.push(1);
    q.push(2);
    CHECK_FALSE(q.push(3));
    CHECK(q.dropped() == 1);
    q.close();
    CHECK(q.pop() == 2);
    CHECK(q.pop() == 3);
}

TEST_CASE("bounded queue pop blocks until a push or close from another thread", "[queue]") {
    BoundedQueue<int> q(4, Overflow::drop_newest);
    std::thread producer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        q.push(7);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        q.close();
    });
    CHECK(q.pop() == 7);
    CHECK_FALSE(q.pop());
    producer.join();
}

TEST_CASE("bounded queue clear empties it", "[queue]") {
    BoundedQueue<int> q(4, Overflow::drop_newest);
    q.push(1);
    q.push(2);
    q.clear();
    q.close();
    CHECK_FALSE(q.pop());
}

TEST_CASE("bounded queue wait_for_room waits for a pop, and gives up after its timeout",
          "[queue]") {
    using namespace std::chrono_literals;
    BoundedQueue<int> q(1, Overflow::drop_newest);
    CHECK(q.wait_for_room(0ms));  // empty: room at once
    q.push(1);
    CHECK_FALSE(q.wait_for_room(20ms));  // full, nobody pops
    std::thread consumer([&] {
        std::this_thread::sleep_for(50ms);
        q.pop();
    });
    const auto before = std::chrono::steady_clock::now();
    CHECK(q.wait_for_room(5s));
    CHECK(std::chrono::steady_clock::now() - before < 4s);
    consumer.join();
    q.push(2);
    q.close();
    CHECK(q.wait_for_room(5s));  // closed: no waiting for a push that would be refused
}
