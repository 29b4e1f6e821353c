#include "flowrepo/cancel.h"

#include <atomic>

#include "flowrepo/error.h"

namespace flowrepo {
namespace {

std::atomic<bool> cancelled{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used from a signal handler");

}  // namespace

void RequestCancel() { cancelled.store(true, std::memory_order_relaxed); }

bool CancelRequested() { return cancelled.load(std::memory_order_relaxed); }

void ThrowIfCancelled() {
  if (CancelRequested()) throw Error(ErrorCode::kIo, "interrupted; nothing was written");
}

}  // namespace flowrepo
