#!/usr/bin/env python3
"""Golden vectors for ddim's portable Gaussian noise (include/ddim/noise.hpp).

An independent implementation of the documented algorithm: Philox4x32-10 in Python integers and
the Box-Muller arithmetic in numpy float32 / float64 scalars, one IEEE operation at a time in the
order the header specifies. Its output is written as the exact bit patterns, and
tests/test_noise.cpp checks the C++ generator against them bit for bit.

Run:  python3 tests/support/reference/make_noise_vectors.py > tests/data/noise/philox_normal.txt
Needs numpy (Debian: python3-numpy).
"""
import struct
import sys

import numpy as np

MASK32 = 0xFFFFFFFF


def philox4x32_10(counter, key):
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        hi0, lo0 = p0 >> 32, p0 & MASK32
        hi1, lo1 = p1 >> 32, p1 & MASK32
        c0, c1, c2, c3 = (hi1 ^ c1 ^ k0) & MASK32, lo1, (hi0 ^ c3 ^ k1) & MASK32, lo0
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


class Precision:
    def __init__(self, single):
        self.single = single
        self.R = np.float32 if single else np.float64
        self.mantissa_bits = 23 if single else 52
        self.bias = 127 if single else 1023
        self.uniform_bits = 24 if single else 32
        self.sqrt2_bits = 0x3FB504F3 if single else 0x3FF6A09E667F3BCD
        self.quarter_pi = self.R(float.fromhex("0x1.921fb6p-1")) if single else self.R(float.fromhex("0x1.921fb54442d18p-1"))
        self.ln2 = self.R(float.fromhex("0x1.62e430p-1")) if single else self.R(float.fromhex("0x1.62e42fefa39efp-1"))
        self.fmt = "<f" if single else "<d"
        self.ifmt = "<I" if single else "<Q"
        self.magic = 0x5F3759DF if single else 0x5FE6EB50C7B537A9
        self.steps = 3 if single else 4
        self.tiny = np.finfo(self.R).tiny

    def bits(self, x):
        return struct.unpack(self.ifmt, struct.pack(self.fmt, x))[0]

    def from_bits(self, b):
        return self.R(struct.unpack(self.fmt, struct.pack(self.ifmt, b))[0])

    def log_uniform(self, k):
        R = self.R
        b = self.bits(k)
        exponent = (b >> self.mantissa_bits) - self.bias
        mask = (1 << self.mantissa_bits) - 1
        mantissa = b & mask
        above = mantissa > (self.sqrt2_bits & mask)
        field = (self.bias - 1) if above else self.bias
        y = self.from_bits(mantissa | (field << self.mantissa_bits))
        e = R(exponent + (1 if above else 0) - self.uniform_bits)
        s = (y - R(1)) / (y + R(1))
        s2 = s * s
        if self.single:
            series = R(1) / R(9)
            for n in (7, 5, 3, 1):
                series = series * s2 + R(1) / R(n)
        else:
            series = R(1) / R(23)
            for n in range(21, 0, -2):
                series = series * s2 + R(1) / R(n)
        log_y = R(2) * s * series
        return e * self.ln2 + log_y

    def newton_sqrt(self, x):
        R = self.R
        guess = (self.magic - (self.bits(x) >> 1)) & ((1 << (32 if self.single else 64)) - 1)
        r = self.from_bits(guess)
        half_x = R(0.5) * x
        for _ in range(self.steps):
            t = r * r
            t = half_x * t
            t = R(1.5) - t
            r = r * t
        return x * r

    def sincos_octant(self, x):
        R = self.R
        x2 = x * x
        if self.single:
            s = R(1.0 / 362880.0)
            s = s * x2 - R(1.0 / 5040.0)
            s = s * x2 + R(1.0 / 120.0)
            s = s * x2 - R(1.0 / 6.0)
            c = R(-1.0 / 3628800.0)
            c = c * x2 + R(1.0 / 40320.0)
            c = c * x2 - R(1.0 / 720.0)
            c = c * x2 + R(1.0 / 24.0)
            c = c * x2 - R(0.5)
        else:
            fact = [1.0]
            for n in range(1, 21):
                fact.append(fact[-1] * n)
            s = R(-1.0 / fact[19])
            sign = 1
            for n in (17, 15, 13, 11, 9, 7, 5, 3):
                s = s * x2 + R(sign * 1.0 / fact[n])
                sign = -sign
            c = R(1.0 / fact[20])
            sign = -1
            for n in (18, 16, 14, 12, 10, 8, 6, 4):
                c = c * x2 + R(sign * 1.0 / fact[n])
                sign = -sign
            c = c * x2 - R(0.5)
        return x + x * (x2 * s), R(1) + x2 * c

    def box_muller(self, radius_word, angle_word):
        R = self.R
        if self.single:
            k = R(float((radius_word >> 8) + 1))
            w = R(float(angle_word >> 8)) * R(2.0 ** -21)
        else:
            k = R(float(radius_word)) + R(1)
            w = R(float(angle_word)) * R(2.0 ** -29)
        squared = R(-2) * self.log_uniform(k)
        if self.bits(squared) < self.bits(self.tiny):
            squared = self.tiny
        radius = self.newton_sqrt(squared)
        octant = int(w)
        fraction = w - R(octant)
        odd_weight = R(octant & 1)
        x = (fraction + odd_weight * (R(1) - R(2) * fraction)) * self.quarter_pi
        s, c = self.sincos_octant(x)
        cos_a, sin_a = (s, c) if octant & 1 else (c, s)
        c1, s1 = (-sin_a, cos_a) if octant & 2 else (cos_a, sin_a)
        if octant & 4:
            c1, s1 = -c1, -s1
        return radius * c1, radius * s1

    def normals(self, seed, sample, slot, begin, count):
        key = (seed & MASK32, seed >> 32)
        out = []
        for e in range(begin, begin + count):
            block = e // 4
            r = philox4x32_10((block & MASK32, sample & MASK32, sample >> 32, slot), key)
            pair = self.box_muller(r[0], r[1]) if e % 4 < 2 else self.box_muller(r[2], r[3])
            out.append(pair[e % 2])
        return out


CASES = [  # seed, sample, slot, begin, count
    (0, 0, 0, 0, 67),
    (42, 0, 1, 0, 33),
    (42, 3, 1, 5, 21),
    (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF, 1000, 13),
    (0x0123456789ABCDEF, (1 << 33) + 5, 999, 4 * 2**31 - 6, 12),
]


def main():
    np.seterr(all="ignore")
    print("# ddim portable Gaussian noise: Philox4x32-10 + IEEE-only Box-Muller (include/ddim/noise.hpp)")
    print("# made by tests/support/reference/make_noise_vectors.py (independent numpy implementation)")
    print("# line: <float|double> seed sample slot begin count : <hex bit patterns of the values>")
    for name, single in (("float", True), ("double", False)):
        precision = Precision(single)
        for seed, sample, slot, begin, count in CASES:
            values = precision.normals(seed, sample, slot, begin, count)
            hexes = " ".join(format(precision.bits(v), "08x" if single else "016x") for v in values)
            print(f"{name} {seed} {sample} {slot} {begin} {count} : {hexes}")


if __name__ == "__main__":
    sys.exit(main())
