#pragma once
// Reading a shared-memory segment that its owner may shrink at any moment (ftruncate) without
// dying of it: a load from a page no longer backed by the segment raises SIGBUS, which would
// end recd and every recording in it. recd's ring reader (ring_reader.cpp) runs each read of a
// producer's ring through run_guarded(): such a SIGBUS then just makes the read fail.
namespace rec::shm {

// Runs fn(arg) on this thread; false if it raised SIGBUS (it was abandoned there). `fn` may be
// abandoned at any instruction, so it must only read and write plain memory: no allocation, no
// lock, nothing with a destructor. Any thread; the first call installs a process-wide SIGBUS
// handler that passes every SIGBUS outside a guarded call on to the previous disposition.
bool run_guarded(void (*fn)(void*), void* arg);

}  // namespace rec::shm
