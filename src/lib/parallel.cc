#include "parallel.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

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

void ParallelFor(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn, std::size_t min_per_thread,
                 std::size_t max_workers) {
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

MemoryBudget::Lease MemoryBudget::Acquire(std::size_t bytes) {
  bytes = std::min(bytes, capacity_);
  std::unique_lock<std::mutex> lock(mutex_);
  released_.wait(lock, [&] { return bytes <= capacity_ - held_; });
  held_ += bytes;
  return Lease(this, bytes);
}

MemoryBudget::Lease::~Lease() {
  if (!budget_) return;
#ifdef __GLIBC__
  // The memory a large item freed stays resident in its thread's malloc
  // arena, where the next large item, on another thread, does not reuse
  // it: handed back, the budget bounds what is resident.
  if (bytes_ >= kTrimAfter) malloc_trim(0);
#endif
  {
    std::lock_guard<std::mutex> lock(budget_->mutex_);
    budget_->held_ -= bytes_;
  }
  budget_->released_.notify_all();
}

}  // namespace flowrepo
