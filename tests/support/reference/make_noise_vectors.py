#!/usr/bin/env python3
"""Golden vectors for ddim's portable Gaussian noise (include/ddim/detail/noise_spec.hpp).

An independent implementation of the documented algorithm: Philox4x32-10 and the chunk layout in
Python integers, the Box-Muller arithmetic in numpy float32 / float64 scalars, one IEEE operation
at a time in the order the header specifies. Its output is written as the exact bit patterns, and
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


# The polynomial coefficients of include/ddim/detail/noise_spec.hpp (from fit_noise_polynomials.py),
# as hex literals parsed here into exact binary values.
FLOAT_LOG = ["-0x1p+2", "-0x1.55557ap+0", "-0x1.995ed8p-1", "-0x1.31e03cp-1"]
FLOAT_SIN = ["-0x1.555546p-3", "0x1.110778p-7", "-0x1.995408p-13"]
FLOAT_COS = ["-0x1p-1", "0x1.55554ap-5", "-0x1.6c0c28p-10", "0x1.99e80cp-16"]
DOUBLE_LOG = ["-0x1p+2", "-0x1.5555555555592p+0", "-0x1.999999997ff62p-1", "-0x1.24924941db5f2p-1",
              "-0x1.c71c521a02f65p-2", "-0x1.74663ba889604p-2", "-0x1.39a20b112d0bp-2", "-0x1.2f0257b2d6d98p-2"]
DOUBLE_SIN = ["-0x1.5555555555548p-3", "0x1.111111110f73p-7", "-0x1.a01a019be9219p-13", "0x1.71de35552b803p-19",
              "-0x1.ae5e4b840f0cbp-26", "0x1.5d8b55a1b3ab8p-33"]
DOUBLE_COS = ["-0x1p-1", "0x1.555555555554bp-5", "-0x1.6c16c16c15015p-10", "0x1.a01a019c8f254p-16",
              "-0x1.27e4f7f19147bp-22", "0x1.1ee9dbcef9cb5p-29", "-0x1.8fa6848523c3dp-37"]


class Precision:
    def __init__(self, single):
        self.single = single
        R = self.R = np.float32 if single else np.float64
        self.mantissa_bits = 23 if single else 52
        self.uniform_bits = 24 if single else 32
        self.residual_bits = 22 if single else 30
        self.log_offset = 0x3F3504F3 if single else 0x3FE6A09E667F3BCD
        self.minus_two_ln2 = R(float.fromhex("-0x1.62e430p+0" if single else "-0x1.62e42fefa39efp+0"))
        self.angle_scale = R(float.fromhex("0x1.921fb6p-22" if single else "0x1.921fb54442d18p-30"))
        # every literal must be exactly representable: a rounding here would be a silent bug
        self.log_coefficients = [self.exact(c) for c in (FLOAT_LOG if single else DOUBLE_LOG)]
        self.sin_coefficients = [self.exact(c) for c in (FLOAT_SIN if single else DOUBLE_SIN)]
        self.cos_coefficients = [self.exact(c) for c in (FLOAT_COS if single else DOUBLE_COS)]
        self.fmt = "<f" if single else "<d"
        self.ifmt = "<I" if single else "<Q"
        self.tiny = np.finfo(R).tiny

    def exact(self, literal):
        value = float.fromhex(literal)
        assert float(self.R(value)) == value, literal
        return self.R(value)

    def bits(self, x):
        return struct.unpack(self.ifmt, struct.pack(self.fmt, x))[0]

    def from_bits(self, b):
        return self.R(struct.unpack(self.fmt, struct.pack(self.ifmt, b))[0])

    def horner(self, coefficients, r):
        p = coefficients[-1]
        for c in reversed(coefficients[:-1]):
            p = p * r
            p = p + c
        return p

    def minus_two_log_uniform(self, radius_word):
        R = self.R
        k = R(float((radius_word >> 8) + 1)) if self.single else R(float(radius_word + 1))
        t = self.bits(k) - self.log_offset  # >= 0: k >= 1
        y = self.from_bits((t & ((1 << self.mantissa_bits) - 1)) + self.log_offset)
        e = R((t >> self.mantissa_bits) - self.uniform_bits)
        s = (y - R(1)) / (y + R(1))
        r = s * s
        p = self.horner(self.log_coefficients, r)
        integer_part = e * self.minus_two_ln2
        fraction_part = s * p
        return integer_part + fraction_part

    def unit_circle(self, angle_word):
        R = self.R
        v = angle_word >> 8 if self.single else angle_word
        half = 1 << (self.residual_bits - 1)
        shifted = v + half
        residual = (shifted & (2 * half - 1)) - half
        quarter = (shifted >> self.residual_bits) & 3
        x = R(float(residual)) * self.angle_scale
        x2 = x * x
        sin_poly = self.horner(self.sin_coefficients, x2)
        cos_poly = self.horner(self.cos_coefficients, x2)
        sin_x = x + x * (x2 * sin_poly)
        cos_x = R(1) + x2 * cos_poly
        c, s = (sin_x, cos_x) if quarter & 1 else (cos_x, sin_x)
        cosine = -c if quarter in (1, 2) else c
        sine = -s if quarter >= 2 else s
        return cosine, sine

    def box_muller(self, radius_word, angle_word):
        squared = self.minus_two_log_uniform(radius_word)
        radius = np.sqrt(self.tiny if squared < self.tiny else squared)  # IEEE sqrt, correctly rounded
        assert radius.dtype == self.R
        cosine, sine = self.unit_circle(angle_word)
        return radius * cosine, radius * sine

    def normals(self, seed, sample, slot, begin, count):
        key = (seed & MASK32, seed >> 32)
        out = []
        for e in range(begin, begin + count):
            chunk, i = divmod(e, 64)
            block = (16 * chunk + i % 16) & MASK32
            r = philox4x32_10((block, sample & MASK32, sample >> 32, slot), key)
            group = i // 16  # output (group & 1) of word pair (group >> 1)
            pair = self.box_muller(r[2 * (group >> 1)], r[2 * (group >> 1) + 1])
            out.append(pair[group & 1])
        return out


CASES = [  # seed, sample, slot, begin, count
    (0, 0, 0, 0, 67),
    (42, 0, 1, 0, 33),
    (42, 3, 1, 5, 21),
    (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF, 1000, 13),
    (0x0123456789ABCDEF, (1 << 33) + 5, 999, 4 * 2**31 - 6, 12),  # block index crosses 2^31
    (7, 11, 3, 64, 150),  # two whole chunks and a partial one
    (5, 1, 2, 2**34 - 40, 80),  # block index wraps at 2^32: values 2^34 + j repeat values j
]

# Box-Muller of chosen word pairs: the ends of the radius uniform (u = 2^-U, u = 1, the floor)
# and of the octant and quarter-turn boundaries of the angle.
RADIUS_WORDS = [0x00000000, 0x00000001, 0x000000FF, 0x00000100, 0x7FFFFFFF, 0x80000000, 0xB504F333,
                0xFFFFFEFF, 0xFFFFFF00, 0xFFFFFFFF]
ANGLE_WORDS = [0x00000000, 0x000000FF, 0x00000100, 0x1FFFFFFF, 0x20000000, 0x3FFFFFFF, 0x40000000,
               0x5FFFFFFF, 0x60000000, 0x7FFFFFFF, 0x80000000, 0x9FFFFFFF, 0xA0000000, 0xC0000000,
               0xDFFFFFFF, 0xE0000000, 0xFFFFFFFF]


def main():
    np.seterr(all="ignore")
    print("# ddim portable Gaussian noise: Philox4x32-10 + IEEE-only Box-Muller (include/ddim/detail/noise_spec.hpp)")
    print("# made by tests/support/reference/make_noise_vectors.py (independent numpy implementation)")
    print("# line: <float|double> seed sample slot begin count : <hex bit patterns of the values>")
    print("#   or: pair_<float|double> radius_word angle_word : <hex bits of first> <hex bits of second>")
    for name, single in (("float", True), ("double", False)):
        precision = Precision(single)
        digits = "08x" if single else "016x"
        for seed, sample, slot, begin, count in CASES:
            values = precision.normals(seed, sample, slot, begin, count)
            hexes = " ".join(format(precision.bits(v), digits) for v in values)
            print(f"{name} {seed} {sample} {slot} {begin} {count} : {hexes}")
        for a in RADIUS_WORDS:
            for b in ANGLE_WORDS:
                first, second = precision.box_muller(a, b)
                print(f"pair_{name} {a:08x} {b:08x} : {precision.bits(first):{digits}} {precision.bits(second):{digits}}")


if __name__ == "__main__":
    sys.exit(main())
