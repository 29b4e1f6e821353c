#include "parallel.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace flowrepo {

namespace {

std::optional<long long> ReadNumber(const char* path) {
  std::ifstream in(path);
  long long value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

std::optional<std::size_t> CgroupCpus() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string line;
  if (std::getline(v2, line)) return CpusOfCpuMax(line);
  auto quota = ReadNumber("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  auto period = ReadNumber("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (quota && period) return CpusOfQuota(*quota, *period);
  return std::nullopt;
}

std::size_t AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<std::size_t>(CPU_COUNT(&set));
  return std::thread::hardware_concurrency();
}

}  // namespace

std::optional<std::size_t> CpusOfQuota(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;  // -1: no limit
  return static_cast<std::size_t>((quota + period - 1) / period);
}

std::optional<std::size_t> CpusOfCpuMax(std::string_view cpu_max) {
  long long quota = 0, period = 0;
  const std::string text(cpu_max);
  if (std::sscanf(text.c_str(), "%lld %lld", &quota, &period) != 2) return std::nullopt;  // "max ..."
  return CpusOfQuota(quota, period);
}

std::size_t CountUsableCpus() {
  std::size_t n = AffinityCpus();
  if (auto quota = CgroupCpus()) n = std::min(n, *quota);
  return std::max<std::size_t>(1, n);
}

std::size_t UsableCpus() {
  static const std::size_t cpus = CountUsableCpus();
  return cpus;
}

std::size_t ParallelWorkers(std::size_t n, std::size_t min_per_thread, std::size_t max_workers) {
  std::size_t cores = UsableCpus();
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
