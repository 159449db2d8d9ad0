#pragma once
// How recd has glibc's malloc serve a process that lives for days and builds and drops a whole
// pipeline (frame buffers, encoders) with every recording.

namespace rec {

// main(), once, before any thread starts: allocations of 256 KiB and more (pictures, encoder
// buffers) are mapped on their own and given back to the system when freed. By default glibc
// raises that threshold to the largest block freed so far, after which such buffers come from
// its arenas, which every finished recording left more fragmented: recd grew ~8 MB with each
// 1280x720 session with both audio tracks (38-46 MB over five), and < 1 MB over five this way.
// The cost is a map and unmap for the few large blocks allocated while recording (keyframe
// packets): frames come from pools.
void keep_large_allocations_mapped();

}  // namespace rec
