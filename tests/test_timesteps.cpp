// Timestep subsequences: each spacing rule pinned against lists computed by hand from its
// formula, the (t, t_prev) pairs read from the list, and validation.
#include <ddim/timesteps.hpp>

#include <cmath>
#include <vector>

#include "support/catch.hpp"

namespace {

std::vector<int> range_down(int start, int stop_exclusive, int stride) {
  std::vector<int> out;
  for (int t = start; t > stop_exclusive; t -= stride) out.push_back(t);
  return out;
}

}  // namespace

TEST_CASE("leading spacing with S = 10 of T = 1000 is 900, 800, ..., 0", "[timesteps]") {
  const auto steps = ddim::Timesteps::leading(1000, 10);
  CHECK(steps.values() == std::vector<int>{900, 800, 700, 600, 500, 400, 300, 200, 100, 0});
  CHECK(steps.num_steps() == 10);
  CHECK(steps.num_train_steps() == 1000);
}

TEST_CASE("leading spacing with steps_offset 1 is shifted by one", "[timesteps]") {
  CHECK(ddim::Timesteps::leading(1000, 5, 1).values() == std::vector<int>{801, 601, 401, 201, 1});
}

TEST_CASE("leading spacing uses the integer stride T / S", "[timesteps]") {
  // 1000 / 7 = 142 (integer division): 6 * 142 = 852 is the largest timestep
  CHECK(ddim::Timesteps::leading(1000, 7).values() == std::vector<int>{852, 710, 568, 426, 284, 142, 0});
  CHECK(ddim::Timesteps::leading(1000, 1).values() == std::vector<int>{0});
  CHECK(ddim::Timesteps::leading(1000, 1000).values() == range_down(999, -1, 1));
}

TEST_CASE("trailing spacing counts down from T - 1 in steps of T / S", "[timesteps]") {
  // t_i = round(T - i T / S) - 1
  CHECK(ddim::Timesteps::trailing(1000, 1).values() == std::vector<int>{999});
  // 1000 - i * 142.857...: 1000, 857.14, 714.29, 571.43, 428.57, 285.71, 142.86
  CHECK(ddim::Timesteps::trailing(1000, 7).values() == std::vector<int>{999, 856, 713, 570, 428, 285, 142});
  CHECK(ddim::Timesteps::trailing(1000, 10).values() ==
        std::vector<int>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99});
  CHECK(ddim::Timesteps::trailing(1000, 50).values() == range_down(999, 0, 20));
  CHECK(ddim::Timesteps::trailing(1000, 1000).values() == range_down(999, -1, 1));
}

TEST_CASE("trailing spacing rounds ties half to even like numpy", "[timesteps]") {
  // T / S = 62.5: 1000 - 62.5 i hits .5 at odd i; numpy rounds 937.5 -> 938, 812.5 -> 812
  const auto values = ddim::Timesteps::trailing(1000, 16).values();
  REQUIRE(values.size() == 16);
  CHECK(values[1] == 937);  // round(937.5) = 938, minus 1
  CHECK(values[3] == 811);  // round(812.5) = 812, minus 1
  CHECK(values[5] == 687);  // round(687.5) = 688, minus 1
  CHECK(values.back() == 61);  // round(62.5) = 62, minus 1
}

TEST_CASE("trailing spacing always has exactly S entries, all valid", "[timesteps]") {
  // numpy's arange(T, 0, -T/S) has S + 1 elements for some (T, S), e.g. (999, 13), and diffusers
  // then runs an extra step at timestep -1; ddim returns the S intended entries.
  for (int num_steps : {13, 15, 23, 26, 30, 46}) {
    const auto steps = ddim::Timesteps::trailing(999, num_steps);
    CHECK(steps.num_steps() == num_steps);
    CHECK(steps.values().front() == 998);
    CHECK(steps.values().back() >= 0);
  }
}

TEST_CASE("linspace spacing rounds linspace(0, T - 1, S) half to even", "[timesteps]") {
  CHECK(ddim::Timesteps::linspace(1000, 1).values() == std::vector<int>{0});
  // 999 / 6 = 166.5: 0, 166.5, 333, 499.5, 666, 832.5, 999 with ties to even
  CHECK(ddim::Timesteps::linspace(1000, 7).values() == std::vector<int>{999, 832, 666, 500, 333, 166, 0});
  // 999 / 9 = 111 exactly
  CHECK(ddim::Timesteps::linspace(1000, 10).values() ==
        std::vector<int>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0});
  // 999 / 49 is not a terminating fraction and 49 does not divide 2 * 999 * i for 0 < i < 49,
  // so no value is a tie and plain rounding applies.
  const auto fifty = ddim::Timesteps::linspace(1000, 50).values();
  REQUIRE(fifty.size() == 50);
  for (int i = 0; i < 50; ++i) {
    CHECK(fifty[static_cast<std::size_t>(49 - i)] == static_cast<int>(std::lround(i * 999.0 / 49.0)));
  }
  CHECK(ddim::Timesteps::linspace(1000, 1000).values() == range_down(999, -1, 1));
}

TEST_CASE("uniform spacing is the paper code's range(0, T, T // S)", "[timesteps]") {
  CHECK(ddim::Timesteps::uniform(1000, 10).values() == ddim::Timesteps::leading(1000, 10).values());
  // 1000 // 300 = 3: range(0, 1000, 3) has 334 entries, more than S
  const auto steps = ddim::Timesteps::uniform(1000, 300);
  CHECK(steps.num_steps() == 334);
  CHECK(steps.values().front() == 999);
  CHECK(steps.values().back() == 0);
  CHECK(ddim::Timesteps::uniform(1000, 7).values() == range_down(994, -1, 142));
}

TEST_CASE("quadratic spacing is int(linspace(0, sqrt(0.8 T), S)^2) without duplicates", "[timesteps]") {
  // sqrt(800) / 9 = 3.1427: squares 0, 9.87, 39.5, 88.9, 158.0, 246.9, 355.6, 483.95, 632.1, 800
  CHECK(ddim::Timesteps::quadratic(1000, 10).values() ==
        std::vector<int>{800, 632, 483, 355, 246, 158, 88, 39, 9, 0});
  // with S = 100 the first squares are 0, 0.0816, 0.33, 0.73, 1.31: duplicates of 0 collapse
  const auto steps = ddim::Timesteps::quadratic(1000, 100);
  CHECK(steps.num_steps() < 100);
  const auto& values = steps.values();
  CHECK(values.back() == 0);
  CHECK(values[values.size() - 2] == 1);
  for (std::size_t i = 1; i < values.size(); ++i) CHECK(values[i] < values[i - 1]);
  CHECK(values.front() == 800);
}

TEST_CASE("each step lands on the next listed timestep and the last on final", "[timesteps]") {
  const auto steps = ddim::Timesteps::linspace(1000, 10);
  for (int k = 0; k + 1 < steps.num_steps(); ++k) {
    CHECK(steps.t_prev(k) == steps.t(k + 1));
  }
  CHECK(steps.t_prev(steps.num_steps() - 1) == -1);
  CHECK(steps.t(0) == 999);
}

TEST_CASE("with_prev_by_stride reproduces diffusers' previous-timestep formula", "[timesteps]") {
  // diffusers' DDIMScheduler lands on t - T // S: for linspace spacing that is not the next
  // listed timestep (999 -> 899 instead of 888)
  const auto listed = ddim::Timesteps::linspace(1000, 10);
  const auto stride = listed.with_prev_by_stride(1000 / 10);
  CHECK(stride.values() == listed.values());
  CHECK(stride.prev_values() == std::vector<int>{899, 788, 677, 566, 455, 344, 233, 122, 11, -1});
  // for leading spacing the two rules agree
  const auto leading = ddim::Timesteps::leading(1000, 10);
  CHECK(leading.with_prev_by_stride(100) == leading);
}

TEST_CASE("custom lists are accepted in either order and stored in sampling order", "[timesteps]") {
  const auto ascending = ddim::Timesteps::custom(1000, {0, 250, 500, 999});
  const auto descending = ddim::Timesteps::custom(1000, {999, 500, 250, 0});
  CHECK(ascending == descending);
  CHECK(ascending.values() == std::vector<int>{999, 500, 250, 0});
  CHECK(ascending.prev_values() == std::vector<int>{500, 250, 0, -1});
  CHECK(ddim::Timesteps::custom(1, {0}).num_steps() == 1);
}

