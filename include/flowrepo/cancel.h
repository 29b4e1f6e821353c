#ifndef FLOWREPO_CANCEL_H_
#define FLOWREPO_CANCEL_H_

namespace flowrepo {

/// Asks running operations to stop at their next safe point (before any
/// ref moves, between flows of long loops). Async-signal-safe: the CLI calls
/// it from its SIGINT/SIGTERM handler, so an interrupted command never
/// leaves a lock file or a half-moved ref behind.
void RequestCancel();
bool CancelRequested();
/// Throws Error(kIo, "interrupted; nothing was written") when cancelled.
void ThrowIfCancelled();

}  // namespace flowrepo

#endif  // FLOWREPO_CANCEL_H_
