// The worker pool: sized by the cores the process may use, every item run
// once, the lowest failing item's exception rethrown.

#include "parallel.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace flowrepo {
namespace {

TEST(ParallelTest, CgroupQuotaRoundsUpAndMaxMeansNoLimit) {
  EXPECT_EQ(CpusOfCpuMax("max 100000"), std::nullopt);
  EXPECT_EQ(CpusOfCpuMax("200000 100000"), 2u);
  EXPECT_EQ(CpusOfCpuMax("150000 100000\n"), 2u);
  EXPECT_EQ(CpusOfCpuMax("50000 100000"), 1u);
  EXPECT_EQ(CpusOfCpuMax(""), std::nullopt);
  EXPECT_EQ(CpusOfQuota(-1, 100000), std::nullopt);  // cgroup v1: no limit
  EXPECT_EQ(CpusOfQuota(400000, 100000), 4u);
}

// A process pinned to one core (taskset -c 0) gets one worker.
TEST(ParallelTest, AffinityMaskBoundsTheWorkers) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  EXPECT_LE(CountUsableCpus(), static_cast<std::size_t>(CPU_COUNT(&saved)));
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);  // this thread only
  const std::size_t pinned = CountUsableCpus();
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(pinned, 1u);
}

TEST(ParallelTest, RunsEveryItemOnceAndRethrowsTheLowestFailure) {
  std::vector<std::atomic<int>> runs(1000);
  ParallelFor(
      runs.size(), [&](std::size_t i, std::size_t) { ++runs[i]; }, 1);
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
  try {
    ParallelFor(
        1000,
        [](std::size_t i, std::size_t) {
          if (i == 700 || i == 900) throw std::runtime_error(std::to_string(i));
        },
        1);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "700");
  }
}

}  // namespace
}  // namespace flowrepo
