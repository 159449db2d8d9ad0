#include "glibc_malloc.hpp"

#include <malloc.h>

namespace rec {

void keep_large_allocations_mapped() { mallopt(M_MMAP_THRESHOLD, 256 * 1024); }

}  // namespace rec
