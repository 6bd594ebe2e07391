// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// parallel.hpp: a small persistent thread team for the elementwise passes of large tensors (the
// step and the noise). Threads are started once, when the team is built, and wait for work; a
// pass is split into one contiguous range per thread at fixed boundaries, and every range is
// computed exactly as a single thread would compute it, so results are bit-identical to one
// thread. Dispatching a pass costs a few microseconds (waking the workers), which is why small
// tensors stay on the calling thread.
#ifndef DDIM_PARALLEL_HPP
#define DDIM_PARALLEL_HPP

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "detail/validate.hpp"

namespace ddim {

/// A fixed team of `size()` threads: the caller plus size() - 1 workers it owns. Not copyable or
/// movable; one pass runs at a time (the team is not reentrant: do not share it between threads
/// that run passes concurrently).
class ThreadTeam {
 public:
  /// Starts threads - 1 workers. Throws std::invalid_argument unless 1 <= threads <= 1024, and
  /// std::system_error if the system cannot start a thread.
  explicit ThreadTeam(int threads) : size_(threads) {
    detail::require_int_in_range("ddim::ThreadTeam", "threads", threads, 1, 1024);
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  }

  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  /// Stops and joins the workers. No pass may be running (passes are synchronous: parallel_for
  /// returns only when its work is done).
  ~ThreadTeam() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  /// Number of threads working on a pass, the caller included.
  int size() const { return size_; }

  /// Runs f(begin, end) over [0, n) split into size() contiguous ranges whose boundaries are
  /// multiples of `grain` (grain >= 1); the calling thread runs the first range and returns when
  /// all are done. f must not throw. No allocation.
  template <class F>
  void parallel_for(Index n, Index grain, const F& f) {
    if (n <= 0) return;
    if (size_ == 1 || n <= grain) {
      f(Index(0), n);
      return;
    }
    job_ = [](const void* context, Index begin, Index end) { (*static_cast<const F*>(context))(begin, end); };
    context_ = &f;
    n_ = n;
    grain_ = grain;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.store(size_ - 1, std::memory_order_relaxed);
      ++generation_;
    }
    wake_.notify_all();
    run_range(0);
    // the workers' ranges take as long as ours: spin briefly, then sleep
    for (int spin = 0; spin < 4096 && pending_.load(std::memory_order_acquire) != 0; ++spin) std::this_thread::yield();
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

  /// The range [begin, end) of part `index` (0 <= index < parts) of [0, n) in a team of `parts`:
  /// boundaries at multiples of grain (grain >= 1), so a split never depends on anything but
  /// (n, grain, parts). Pure; no allocation, no exception.
  static void split(Index n, Index grain, int parts, int index, Index& begin, Index& end) {
    const Index units = (n + grain - 1) / grain;
    const Index first = units * index / parts, last = units * (index + 1) / parts;
    begin = first * grain < n ? first * grain : n;
    end = last * grain < n ? last * grain : n;
  }

 private:
  void run_range(int index) const {
    Index begin = 0, end = 0;
    split(n_, grain_, size_, index, begin, end);
    if (begin < end) job_(context_, begin, end);
  }

  void work(int index) {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stopping_) return;
      }
      run_range(index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
  std::atomic<int> pending_{0};
  void (*job_)(const void*, Index, Index) = nullptr;
  const void* context_ = nullptr;
  Index n_ = 0, grain_ = 1;
};

}  // namespace ddim

#endif  // DDIM_PARALLEL_HPP
