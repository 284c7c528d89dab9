//! The statistics of the guard: the one-sided two-proportion z-test and the normal tail.

use super::Counts;

/// One-sided two-proportion z-test with pooled variance and a continuity correction:
/// (z, p) for H1 "the canary's failure rate is above stable's". p is 1 when nothing can be said
/// (a pool without requests, no failures at all, or every request failed).
pub fn z_test(stable: Counts, canary: Counts) -> (f64, f64) {
    if stable.requests == 0 || canary.requests == 0 {
        return (0.0, 1.0);
    }
    let (n1, n2) = (canary.requests as f64, stable.requests as f64);
    let pooled = (canary.failures + stable.failures) as f64 / (n1 + n2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if variance <= 0.0 {
        return (0.0, 1.0);
    }
    // Yates' correction: half a request of each pool off the difference, so a count near the
    // threshold is not judged as if proportions were continuous.
    let correction = 0.5 * (1.0 / n1 + 1.0 / n2);
    let diff = canary.rate() - stable.rate();
    let z = (diff - correction).max(0.0) / variance.sqrt();
    (z, normal_sf(z))
}

/// P(Z > z) for a standard normal Z: erfc(z / √2) / 2.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function, by the Chebyshev fit of Numerical Recipes (2nd ed., §6.2,
/// `erfcc`): fractional error below 1.2e-7 everywhere, so even p-values of 1e-9 keep their
/// leading digits (Abramowitz–Stegun 7.1.26 is only good to 1.5e-7 absolute, useless there).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}
