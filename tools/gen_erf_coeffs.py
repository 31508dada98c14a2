#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Coefficients of the vectorized erf in include/bertpp/exec/detail/vmath.hpp.

    python3 tools/gen_erf_coeffs.py      (numpy only)

Two pieces, each a least-squares polynomial fit on Chebyshev nodes against Python's
double-precision math.erf / math.erfc:
  |z| <  1:      erf(z)  = z * P(z^2)
  1 <= |z| < 4:  erf(z)  = 1 - exp(-z^2) * Q(u),  u = (z - 2.5) / 1.5,  Q = erfc(z) exp(z^2)
  |z| >= 4:      erf(z)  = +-1 (erfc(4) = 1.5e-8 is below half an ulp of 1 in float)
Prints the coefficients (highest power first, for Horner) and the worst absolute error of
each piece when evaluated in float32, and of gelu(x) = 0.5 x (1 + erf(x / sqrt 2)).
"""
import math

import numpy as np


def cheb_nodes(a, b, n):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos((2 * k + 1) * np.pi / (2 * n))


def fit(x, y, deg):
    # Least squares in double precision; returns coefficients highest power first.
    return np.polyfit(x, y, deg)


def horner32(coeffs, x):
    # Horner's rule with one rounding per step, as the kernel's fused multiply-adds do.
    acc = np.full(np.shape(x), np.float32(coeffs[0]), dtype=np.float32)
    for c in coeffs[1:]:
        acc = (acc.astype(np.float64) * x.astype(np.float64) + np.float64(np.float32(c))).astype(np.float32)
    return acc


def main():
    # Piece 1: erf(z) / z = P(z^2) on z in (0, 1).
    z1 = cheb_nodes(1e-6, 1.0, 400)
    p = fit(z1 * z1, np.array([math.erf(v) / v for v in z1]), 6)
    # Piece 2: Q(z) = erfc(z) exp(z^2) on [1, 4].
    z2 = cheb_nodes(1.0, 4.0, 400)
    q = fit((z2 - 2.5) / 1.5, np.array([math.erfc(v) * math.exp(v * v) for v in z2]), 11)

    zs = np.linspace(0, 5, 200001).astype(np.float32)
    ref = np.array([math.erf(float(v)) for v in zs])
    small = zs < 1
    e1 = zs * horner32(p, (zs * zs).astype(np.float32))
    zc = np.minimum(zs, np.float32(4))
    u = ((zc - np.float32(2.5)) * np.float32(1 / 1.5)).astype(np.float32)
    e2 = np.float32(1) - np.exp(-(zc * zc)).astype(np.float32) * horner32(q, u)
    approx = np.where(small, e1, np.where(zs < 4, e2, np.float32(1))).astype(np.float32)
    err = np.abs(approx.astype(np.float64) - ref)
    print(f"piece 1 max {err[small].max():.3e}, piece 2 max {err[~small & (zs < 4)].max():.3e}")
    print("P (z^2, highest first):", ", ".join(f"{c:.9e}f" for c in p))
    print("Q (u, highest first):  ", ", ".join(f"{c:.9e}f" for c in q))
    print(f"max |erf error| in float32: {err.max():.3e} (ulp of 1: {2**-24:.3e})")
    xs = zs * np.float32(math.sqrt(2))
    gelu_ref = 0.5 * xs.astype(np.float64) * (1 + ref)
    gelu = (np.float32(0.5) * xs * (np.float32(1) + approx)).astype(np.float32)
    rel = np.abs(gelu - gelu_ref) / np.maximum(np.abs(gelu_ref), 1e-30)
    print(f"max relative gelu error (x >= 0): {rel.max():.3e}")


if __name__ == "__main__":
    main()
