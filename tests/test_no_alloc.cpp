// The real-time promise: once a Sampler has its buffers, sampling allocates nothing, per step or
// per call. Two independent witnesses: Eigen's own allocation guard (EIGEN_RUNTIME_NO_MALLOC: Eigen
// asserts in its allocator, which calls malloc directly), with eigen_assert routed to a counter so
// that it works in release builds too, and a replacement of the global operator new that counts
// every allocation made through new (standard containers, std::function, ...).
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace {
std::atomic<long> g_allocations{0};        // operator new calls
std::atomic<long> g_eigen_violations{0};   // failed eigen_assert, i.e. Eigen allocations while forbidden
}  // namespace

#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(condition) ((condition) ? (void)0 : (void)g_eigen_violations.fetch_add(1))
#include <ddim/ddim.hpp>

#include "support/catch.hpp"

namespace {

void* counted_allocation(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* counted_aligned_allocation(std::size_t size, std::align_val_t alignment) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto align = static_cast<std::size_t>(alignment);
  const std::size_t rounded = (size + align - 1) / align * align;
  if (void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded)) return p;
  throw std::bad_alloc();
}

// Counts allocations through operator new and through Eigen's allocator made while `body` runs.
template <class Body>
long allocations_during(Body&& body) {
  const long before = g_allocations.load() + g_eigen_violations.load();
  Eigen::internal::set_is_malloc_allowed(false);
  body();
  Eigen::internal::set_is_malloc_allowed(true);
  return g_allocations.load() + g_eigen_violations.load() - before;
}

struct TrivialModel {
  void operator()(const Eigen::ArrayXXf& x, int t, ddim::ModelOutput<float>& out) const {
    out = x * (0.001f * static_cast<float>(t));
  }
};

}  // namespace

void* operator new(std::size_t size) { return counted_allocation(size); }
void* operator new[](std::size_t size) { return counted_allocation(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_allocation(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_allocation(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t alignment) { return counted_aligned_allocation(size, alignment); }
void* operator new[](std::size_t size, std::align_val_t alignment) { return counted_aligned_allocation(size, alignment); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

TEST_CASE("both allocation witnesses see allocations", "[no_alloc]") {
  // the witnesses themselves must work, or the tests below prove nothing
  // The pointer goes through a volatile so that the compiler cannot elide the new/delete pair
  // (C++14 allows it to, and GCC does at -O2 when the pointer does not escape).
  const long by_new = allocations_during([] {
    static int* volatile escaped = nullptr;
    escaped = new int(3);
    delete escaped;
  });
  CHECK(by_new == 1);
  const long by_eigen = allocations_during([] {
    Eigen::ArrayXf heap(100);
    heap.setZero();
  });
  CHECK(by_eigen >= 1);
}

TEST_CASE("a reserved Sampler samples without any heap allocation", "[no_alloc]") {
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000, 1e-4, 0.02);
  const auto steps = ddim::Timesteps::leading(1000, 16);
  std::vector<ddim::Options> configurations = {ddim::Options::ddim(0.0), ddim::Options::ddim(1.0),
                                               ddim::Options::ddpm(ddim::Variance::fixed_large)};
  configurations.push_back(ddim::Options::ddim(0.5));
  configurations.back().clipping = ddim::Clipping::dynamic_threshold(0.9, 1.5);
  configurations.push_back(ddim::Options::ddim(0.0));
  configurations.back().clipping = ddim::Clipping::clip(1.0);
  configurations.back().prediction = ddim::Prediction::v;
  for (const auto& options : configurations) {
    ddim::Sampler<float> sampler(schedule, steps, options);
    sampler.reserve(16, 7);  // a robot action chunk: 16 x 7
    Eigen::ArrayXXf x = Eigen::ArrayXXf::Constant(16, 7, 0.3f);
    const TrivialModel model;
    const ddim::PhiloxNoise noise(3);
    const long counted = allocations_during([&] {
      for (int call = 0; call < 3; ++call) sampler.sample(x, model, noise);
    });
    INFO("eta " << options.eta << ", method " << static_cast<int>(options.method) << ", clip kind "
                << static_cast<int>(options.clipping.kind));
    CHECK(counted == 0);
  }
}

TEST_CASE("a reserved Sampler still does not allocate after its model threw", "[no_alloc]") {
  // The real-time loop borrows the output buffer; the exception must not lose it (the next call
  // would then allocate a new one).
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000, 1e-4, 0.02);
  ddim::Sampler<float> sampler(schedule, ddim::Timesteps::leading(1000, 8), ddim::Options::ddim(0.0));
  sampler.reserve(16, 7);
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Constant(16, 7, 0.3f);
  const auto throwing = [](const Eigen::ArrayXXf&, int t, ddim::ModelOutput<float>& out) {
    if (t < 500) throw std::runtime_error("model failure");
    out.setConstant(0.1f);
  };
  CHECK_THROWS_AS(sampler.sample(x, throwing), std::runtime_error);
  const TrivialModel model;
  const long counted = allocations_during([&] { sampler.sample(x, model); });
  CHECK(counted == 0);
}

TEST_CASE("the exact mixture model and the learned variance sample without allocation", "[no_alloc]") {
  const auto schedule = ddim::NoiseSchedule<double>::cosine(1000);
  const auto mixture = ddim::GaussianMixture::ring(8, 3.0, 0.3, 4);
  auto model = mixture.model(schedule);  // owns its scratch
  ddim::Sampler<double> sampler(schedule, ddim::Timesteps::trailing(1000, 20), ddim::Options::ddim(0.7));
  sampler.reserve(4, 32);
  Eigen::ArrayXXd x = Eigen::ArrayXXd::Constant(4, 32, 0.1);
  const ddim::PhiloxNoise noise(1);
  CHECK(allocations_during([&] { sampler.sample(x, model, noise); }) == 0);

  ddim::Sampler<double> learned(schedule, ddim::Timesteps::trailing(1000, 20), ddim::Options::ddpm(ddim::Variance::learned_range));
  learned.reserve(4, 32);
  const auto variance_model = [](const Eigen::ArrayXXd& x_t, int, ddim::ModelOutput<double>& out) {
    out.topRows(4) = 0.1 * x_t;
    out.bottomRows(4).setConstant(0.2);
  };
  CHECK(allocations_during([&] { learned.sample(x, variance_model, noise); }) == 0);
}

TEST_CASE("a step alone, any variant, does not allocate", "[no_alloc]") {
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000, 1e-4, 0.02);
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Constant(33, 3, 0.2f), m = Eigen::ArrayXXf::Constant(33, 3, -0.1f),
                  z = Eigen::ArrayXXf::Constant(33, 3, 0.5f), out(33, 3);
  Eigen::ArrayXf scratch(33);
  ddim::Options thresholded = ddim::Options::ddim(0.5);
  thresholded.clipping = ddim::Clipping::dynamic_threshold();
  const auto c = ddim::step_coefficients<float>(0.5, 0.6, ddim::Options::ddim(0.5), false);
  const auto t = ddim::step_coefficients<float>(0.5, 0.6, thresholded, false);
  const ddim::PhiloxNoise noise(2);
  const long counted = allocations_during([&] {
    ddim::step(c, x, m, z, out);
    ddim::step(c, x, m, out);
    ddim::step(c, x, m, x);
    ddim::step(c, x, m, noise, 4, out);
    ddim::step_thresholded(t, x, m, z, out, scratch);
    ddim::predicted_x0(c, x, m, out);
    noise.step_noise(4, 0, z);
  });
  CHECK(counted == 0);
}

TEST_CASE("with reserve, an observed loop does not allocate either", "[no_alloc]") {
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000, 1e-4, 0.02);
  ddim::Sampler<float> sampler(schedule, ddim::Timesteps::leading(1000, 8), ddim::Options::ddim(0.5));
  sampler.reserve(16, 7);
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Constant(16, 7, 0.3f);
  float last_x0 = 0;
  const auto observer = [&](const ddim::StepInfo&, const Eigen::ArrayXXf&, const Eigen::ArrayXXf& x0_pred) {
    last_x0 = x0_pred(0, 0);
  };
  CHECK(allocations_during([&] { sampler.sample(x, TrivialModel{}, ddim::PhiloxNoise(1), observer); }) == 0);
  CHECK(std::isfinite(last_x0));
}
