#ifndef FLOWREPO_PARALLEL_H_
#define FLOWREPO_PARALLEL_H_

// The one thread pool pattern of the library: per-item work (JSON, hashing,
// compression) that needs no libgit2 handle, spread over the cores.

#include <cstddef>
#include <functional>

namespace flowrepo {

/// Runs fn(i, worker) for every i in [0, n), on as many threads as there
/// are cores, at most \a max_workers when not 0 (worker 0 is the calling
/// thread), but never fewer than \a min_per_thread items a thread. Items are taken in increasing order;
/// when some throw, the others stop and the exception of the lowest such i
/// is rethrown, so failures do not depend on scheduling.
void ParallelFor(std::size_t n, const std::function<void(std::size_t i, std::size_t worker)>& fn,
                 std::size_t min_per_thread = 16, std::size_t max_workers = 0);

/// How many workers ParallelFor uses for \a n items.
std::size_t ParallelWorkers(std::size_t n, std::size_t min_per_thread = 16, std::size_t max_workers = 0);

}  // namespace flowrepo

#endif  // FLOWREPO_PARALLEL_H_
