#!/usr/bin/env python3
"""Minimax polynomials of ddim's portable Gaussian noise (include/ddim/detail/noise_spec.hpp).

The Box-Muller transform of the noise needs log, sin and cos on reduced ranges; the header
evaluates each as a short polynomial in IEEE arithmetic. This script derives those polynomials:

  log:  atanh(s) / s = 1 + R (h1 + h2 R + ...),   R = s^2 in [0, (3 - 2 sqrt 2)^2]
        (y in [sqrt2/2, sqrt2) gives s = (y - 1) / (y + 1) in [-(3 - 2 sqrt 2), 3 - 2 sqrt 2];
        the header stores -4, -4 h1, -4 h2, ... so that s P(R) = -4 atanh(s) = -2 log y)
  sin:  sin(x) / x = 1 + X (s1 + s2 X + ...),     X = x^2 in [0, (pi/4)^2]
  cos:  cos(x)     = 1 + X (c1 + c2 X + ...),     X = x^2 in [0, (pi/4)^2]

Each is the minimax fit in relative error (Remez exchange in mpmath at 60 digits), with the
coefficients rounded to the target precision one at a time, lowest order first, the remaining
ones refitted after each rounding. The domains get a relative margin of 1e-6 because the reduced
arguments are computed in rounded arithmetic. Printed: the coefficients as C++ hex literals and
the relative error of the rounded polynomial evaluated exactly (the header's evaluation adds its
own rounding, which tests/test_noise.cpp measures end to end).

Run:  python3 tests/support/reference/fit_noise_polynomials.py
Needs mpmath and numpy (Debian: python3-mpmath python3-numpy).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 60

LOG_RANGE = (3 - 2 * mp.sqrt(2)) ** 2 * (1 + mp.mpf("1e-6"))
TRIG_RANGE = (mp.pi / 4) ** 2 * (1 + mp.mpf("1e-6"))


def atanh_ratio(r):
    s = mp.sqrt(r)
    return mp.atanh(s) / s if s else mp.mpf(1)


def sin_ratio(x2):
    x = mp.sqrt(x2)
    return mp.sin(x) / x if x else mp.mpf(1)


def cos_of_square(x2):
    return mp.cos(mp.sqrt(x2))


def remez(target, weight, upper, powers, grid=1000, iterations=12):
    """Coefficients of sum_k c_k X^powers[k] minimizing max |weight(X) (p(X) - target(X))| on
    [0, upper] (a discrete Remez exchange on a Chebyshev-spaced grid)."""
    n = len(powers)
    points = [upper * (1 - mp.cos(mp.pi * (i + mp.mpf(0.5)) / (grid + 1))) / 2 for i in range(grid + 1)]
    values = [target(x) for x in points]
    weights = [weight(x) for x in points]
    reference = [points[int(i * grid / n)] for i in range(n + 1)]
    best = None
    for _ in range(iterations):
        system = mp.matrix(n + 1, n + 1)
        rhs = mp.matrix(n + 1, 1)
        for i, x in enumerate(reference):
            for k, power in enumerate(powers):
                system[i, k] = x ** power
            system[i, n] = (-1) ** i / weight(x)
            rhs[i] = target(x)
        solution = mp.lu_solve(system, rhs)
        coefficients = [solution[k] for k in range(n)]
        errors = [w * (sum(c * x ** p for c, p in zip(coefficients, powers)) - v)
                  for x, v, w in zip(points, values, weights)]
        worst = max(abs(e) for e in errors)
        if best is None or worst < best[1]:
            best = (coefficients, worst)
        # new reference: the extremum of each run of equal sign, trimmed to n + 1 alternating ones
        runs = []
        for x, e in zip(points, errors):
            if runs and mp.sign(e) == mp.sign(runs[-1][1]):
                if abs(e) > abs(runs[-1][1]):
                    runs[-1] = (x, e)
            else:
                runs.append((x, e))
        while len(runs) > n + 1:
            runs.pop(0 if abs(runs[0][1]) < abs(runs[-1][1]) else -1)
        if len(runs) < n + 1:
            break
        reference = [x for x, _ in runs]
    return best


def to_precision(value, single):
    return mp.mpf(float(np.float32(float(value)))) if single else mp.mpf(float(value))


def fit(function, upper, count, single):
    """c_1 .. c_count of function(X) ~ 1 + X (c_1 + c_2 X + ...), rounded one by one."""
    fixed = []
    for j in range(count):
        def remainder(x, fixed=tuple(fixed)):
            return function(x) - 1 - sum(c * x ** (k + 1) for k, c in enumerate(fixed))
        coefficients, _ = remez(remainder, lambda x: 1 / function(x), upper, list(range(j + 1, count + 1)))
        fixed.append(to_precision(coefficients[0], single))
    samples = [upper * mp.mpf(i) / 5000 for i in range(1, 5001)]
    error = max(abs((1 + sum(c * x ** (k + 1) for k, c in enumerate(fixed))) / function(x) - 1) for x in samples)
    return fixed, error


def literal(value, single):
    text = float(np.float32(float(value))).hex() if single else float(value).hex()
    mantissa, exponent = text.split("p")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}p{exponent}" + ("f" if single else "")


def main():
    for name, single, counts in (("float", True, (3, 3, 4)), ("double", False, (7, 6, 7))):
        for label, function, upper, count, scale in (("log  (-4 atanh(s)/s in R = s^2)", atanh_ratio, LOG_RANGE, counts[0], -4),
                                                     ("sin  (sin(x)/x - 1 = X S(X))", sin_ratio, TRIG_RANGE, counts[1], 1),
                                                     ("cos  (cos(x) - 1 = X C(X))", cos_of_square, TRIG_RANGE, counts[2], 1)):
            coefficients, error = fit(function, upper, count, single)
            scaled = ([scale] if scale != 1 else []) + [scale * c for c in coefficients]
            print(f"{name} {label}: relative error 2^{float(mp.log(error, 2)):.1f}")
            print("  {" + ", ".join(literal(c, single) for c in scaled) + "}")


if __name__ == "__main__":
    main()
