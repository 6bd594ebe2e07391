// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// ddim.hpp: the umbrella header. Includes every public component; nothing else.
#ifndef DDIM_DDIM_HPP
#define DDIM_DDIM_HPP

#include "config.hpp"
#include "schedule.hpp"
#include "timesteps.hpp"
#include "prediction.hpp"
#include "options.hpp"
#include "coefficients.hpp"
#include "step.hpp"
#include "forward.hpp"
#include "noise.hpp"
#include "torch_generator.hpp"
#include "torch_noise.hpp"
#include "predictor.hpp"
#include "observer.hpp"
#include "parallel.hpp"
#include "sample.hpp"
#include "invert.hpp"
#include "interpolate.hpp"
#include "gaussian_mixture.hpp"

#endif  // DDIM_DDIM_HPP
