// The thread team: how it splits work, and that a Sampler's result does not depend on how many
// threads run its passes. Also built with -O3 -march=native (fused multiply-adds allowed), where a
// split that changed how an element is computed would show.
#include <ddim/ddim.hpp>

#include <algorithm>
#include <atomic>
#include <vector>

#include "support/catch.hpp"

TEST_CASE("a team's ranges cover the work once, at multiples of the grain", "[parallel]") {
  for (int parts : {1, 2, 3, 7}) {
    for (ddim::Index n : {1, 63, 64, 65, 1000, 4097}) {
      for (ddim::Index grain : {1, 16, 64}) {
        ddim::Index expected_begin = 0;
        for (int i = 0; i < parts; ++i) {
          ddim::Index begin = 0, end = 0;
          ddim::ThreadTeam::split(n, grain, parts, i, begin, end);
          INFO("n " << n << " grain " << grain << " parts " << parts << " part " << i);
          CHECK(begin == expected_begin);
          CHECK(end >= begin);
          CHECK((begin % grain == 0 || begin == n));
          expected_begin = end;
        }
        CHECK(expected_begin == n);
      }
    }
  }
}

TEST_CASE("parallel_for visits every index exactly once on every thread count", "[parallel]") {
  for (int threads : {1, 2, 4}) {
    ddim::ThreadTeam team(threads);
    CHECK(team.size() == threads);
    std::vector<std::atomic<int>> visits(10000);
    for (int round = 0; round < 20; ++round) {  // the same team, many passes
      team.parallel_for(10000, 64, [&](ddim::Index begin, ddim::Index end) {
        for (ddim::Index i = begin; i < end; ++i) visits[static_cast<std::size_t>(i)].fetch_add(1);
      });
    }
    CHECK(std::all_of(visits.begin(), visits.end(), [](const std::atomic<int>& v) { return v.load() == 20; }));
  }
}

TEMPLATE_TEST_CASE("sampling on several threads gives the bits of one thread", "[parallel][sample]", float, double) {
  using Tensor = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  const auto schedule = ddim::NoiseSchedule<TestType>::linear(1000, 1e-4, 0.02);
  const auto steps = ddim::Timesteps::leading(1000, 6);
  const auto model = [](const Tensor& x, int t, ddim::ModelOutput<TestType>& out) {
    out = x * static_cast<TestType>(0.001 * t) + static_cast<TestType>(0.01);
  };
  // a stateless callable noise source takes the buffered-noise path (not the fused one)
  const auto callable_noise = [](int k, int, ddim::ModelOutput<TestType>& z) { ddim::PhiloxNoise(9).step_noise(k, 0, z); };
  std::vector<ddim::Options> configurations = {ddim::Options::ddim(0.0), ddim::Options::ddim(0.8),
                                               ddim::Options::ddpm(ddim::Variance::fixed_small)};
  configurations.push_back(ddim::Options::ddim(0.0));
  configurations.back().clipping = ddim::Clipping::clip(0.5);
  for (const auto& options : configurations) {
    for (ddim::Index rows : {1, 63, 1000, 5000}) {
      const Tensor x_T = ddim::gaussian<TestType>(rows, 5, 3);
      Tensor single = x_T, fused = x_T, buffered = x_T;
      ddim::Sampler<TestType> one(schedule, steps, options);
      one.sample(single, model, ddim::PhiloxNoise(9));
      for (int threads : {2, 3}) {
        ddim::Sampler<TestType> many(schedule, steps, options);
        many.set_parallelism({threads, 1, 1});  // split everything, however small
        fused = x_T;
        buffered = x_T;
        many.sample(fused, model, ddim::PhiloxNoise(9));
        many.sample(buffered, model, callable_noise);
        INFO("eta " << options.eta << ", rows " << rows << ", threads " << threads);
        CHECK((fused == single).all());
        CHECK((buffered == single).all());
      }
    }
  }
}

