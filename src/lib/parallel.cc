#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace flowrepo {

std::size_t ParallelWorkers(std::size_t n, std::size_t min_per_thread, std::size_t max_workers) {
  std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (max_workers) cores = std::min(cores, max_workers);
  std::size_t by_size = (n + min_per_thread - 1) / std::max<std::size_t>(1, min_per_thread);
  return std::max<std::size_t>(1, std::min(cores, by_size));
}

void ParallelFor(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn,
                 std::size_t min_per_thread, std::size_t max_workers) {
  const std::size_t threads = ParallelWorkers(n, min_per_thread, max_workers);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::exception_ptr error;
  std::size_t error_at = n;
  auto work = [&](std::size_t worker) {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (i < error_at) error = std::current_exception(), error_at = i;
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace flowrepo
