#ifndef FLOWREPO_PARALLEL_H_
#define FLOWREPO_PARALLEL_H_

// The one thread pool pattern of the library: per-item work (JSON, hashing,
// compression) that needs no libgit2 handle, spread over the cores.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

namespace flowrepo {

/// Runs fn(i, worker) for every i in [0, n), on as many threads as the
/// process may use cores (UsableCpus), at most \a max_workers when not 0 (worker 0 is the calling
/// thread), but never fewer than \a min_per_thread items a thread. Items are taken in increasing order;
/// when some throw, the others stop and the exception of the lowest such i
/// is rethrown, so failures do not depend on scheduling.
void ParallelFor(std::size_t n, const std::function<void(std::size_t i, std::size_t worker)>& fn,
                 std::size_t min_per_thread = 16, std::size_t max_workers = 0);

/// The cores this process may keep busy: those of its CPU affinity mask,
/// at most its cgroup's CPU quota rounded up (as ninja counts them: a
/// container given 2 of 64 cores gets 2 workers, not 64). Counted once,
/// by the first call: CountUsableCpus() counts again.
std::size_t UsableCpus();
std::size_t CountUsableCpus();

/// The CPUs a cgroup quota allows: "max 100000" (cgroup v2 cpu.max, no
/// limit) gives none, "150000 100000" gives 2; quota and period in
/// microseconds as cgroup v1 has them in two files.
std::optional<std::size_t> CpusOfQuota(long long quota, long long period);
std::optional<std::size_t> CpusOfCpuMax(std::string_view cpu_max);

/// How many workers ParallelFor uses for \a n items.
std::size_t ParallelWorkers(std::size_t n, std::size_t min_per_thread = 16, std::size_t max_workers = 0);

/// Memory that work running on several threads may take together: a
/// counting semaphore over bytes. A worker acquires what its item can take
/// at most before starting it and gives it back when done; it waits while
/// the others hold too much. A request for more than the whole budget gets
/// the whole budget, once nothing else is held: such an item runs alone.
/// Nobody waits while holding, so nothing deadlocks.
class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t bytes) : capacity_(bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  /// Held bytes, given back when destroyed.
  class Lease {
   public:
    Lease(MemoryBudget* budget, std::size_t bytes) : budget_(budget), bytes_(bytes) {}
    Lease(Lease&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) { other.budget_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    std::size_t bytes() const { return bytes_; }

   private:
    MemoryBudget* budget_;
    std::size_t bytes_;
  };

  /// Leases this large return the memory freed under them to the system
  /// when released (glibc).
  static constexpr std::size_t kTrimAfter = 16u << 20;

  /// Waits until \a bytes (at most the capacity) can be held.
  Lease Acquire(std::size_t bytes);
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::size_t held_ = 0;
  std::mutex mutex_;
  std::condition_variable released_;
};

}  // namespace flowrepo

#endif  // FLOWREPO_PARALLEL_H_
