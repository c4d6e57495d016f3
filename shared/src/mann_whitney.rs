//! The Mann–Whitney U test, one-sided, as Kayenta's canary judge uses it:
//! are green's per-period values stochastically greater (worse, for a
//! latency or an error rate) than blue's? It compares ranks, not means, so
//! one spike weighs as one rank and no distribution is assumed.
//!
//! The p-value is the normal approximation with the tie correction and a
//! continuity correction (SciPy's `mannwhitneyu(..., alternative="greater",
//! method="asymptotic")`), good from about 8 values a side; the gate asks
//! for `min_samples` (10 by default) before it decides anything. statrs,
//! the statistics crate that is kept up, has the distributions but not this
//! test; the arithmetic is thirty lines.

/// What the test found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// Green's U statistic: how many (green, blue) pairs green wins, ties
    /// counting one half.
    pub u: f64,
    /// The probability of a U this large or larger if green were no worse
    /// than blue.
    pub p: f64,
}

/// The one-sided test that `green`'s values are greater than `blue`'s.
/// `None` when a side is empty, or a value is not a number.
pub fn greater(green: &[f64], blue: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (green.len(), blue.len());
    if n1 == 0 || n2 == 0 || green.iter().chain(blue).any(|v| v.is_nan()) {
        return None;
    }
    let mut all: Vec<(f64, bool)> = green
        .iter()
        .map(|v| (*v, true))
        .chain(blue.iter().map(|v| (*v, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Ranks from 1, ties sharing their average rank.
    let (mut green_ranks, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let j = all[i..].iter().take_while(|v| v.0 == all[i].0).count() + i;
        let rank = (i + 1 + j) as f64 / 2.0;
        green_ranks += rank * all[i..j].iter().filter(|v| v.1).count() as f64;
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    let (n1, n2) = (n1 as f64, n2 as f64);
    let n = n1 + n2;
    let u = green_ranks - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    let p = if variance <= 0.0 {
        // Every value the same: no evidence either way.
        1.0
    } else {
        let z = (u - mean - 0.5) / variance.sqrt();
        upper_tail(z)
    };
    Some(MannWhitney { u, p })
}

/// The median of `values` (none when empty).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}

/// P(Z > z) for a standard normal Z: half of erfc(z / √2), with erfc from
/// Numerical Recipes' Chebyshev fit (relative error below 1.2e-7).
fn upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let erfc = if x >= 0.0 { erfc } else { 2.0 - erfc };
    erfc / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn matches_scipy_on_its_documented_example() {
        // SciPy's mannwhitneyu example (ages of male and female
        // respondents): U = 17, two-sided asymptotic p = 0.11134688653314041,
        // so one-sided "greater" is half of it.
        let males = [19.0, 22.0, 16.0, 29.0, 24.0];
        let females = [20.0, 11.0, 17.0, 12.0];
        let test = greater(&males, &females).expect("a test");
        assert_eq!(test.u, 17.0);
        assert!(
            close(test.p, 0.111_346_886_533_140_41 / 2.0, 1e-6),
            "{test:?}"
        );
    }

    #[test]
    fn ties_share_their_rank_and_lower_the_variance() {
        // GIVEN green at 2 and 3, blue at 1, 2 and 2: green's 2 wins one
        // pair and ties two (2), its 3 wins three (3): U = 5
        let test = greater(&[2.0, 3.0], &[1.0, 2.0, 2.0]).expect("a test");
        assert_eq!(test.u, 5.0);
        assert!(test.p > 0.05 && test.p < 0.5, "{test:?}");
    }

    #[test]
    fn a_clear_regression_is_significant_and_a_spike_is_not() {
        // GIVEN blue's p99 around 0.20 s for 30 periods
        let blue: Vec<f64> = (0..30).map(|i| 0.19 + f64::from(i % 5) * 0.005).collect();
        // WHEN green runs 30 % slower throughout
        let slow: Vec<f64> = blue.iter().map(|v| v * 1.3).collect();
        // THEN p is tiny
        assert!(greater(&slow, &blue).expect("a test").p < 1e-6);
        // AND green like blue but for one spike of 2 s is not significant
        let mut spiky = blue.clone();
        spiky[7] = 2.0;
        assert!(greater(&spiky, &blue).expect("a test").p > 0.3);
        // AND green faster than blue is nowhere near
        let fast: Vec<f64> = blue.iter().map(|v| v * 0.7).collect();
        assert!(greater(&fast, &blue).expect("a test").p > 0.999);
    }

    #[test]
    fn identical_values_give_no_evidence() {
        let test = greater(&[1.0; 12], &[1.0; 12]).expect("a test");
        assert_eq!((test.u, test.p), (72.0, 1.0));
    }

    #[test]
    fn an_empty_side_or_a_nan_is_no_test() {
        assert_eq!(greater(&[], &[1.0]), None);
        assert_eq!(greater(&[1.0], &[]), None);
        assert_eq!(greater(&[f64::NAN], &[1.0]), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn the_normal_tail_is_accurate() {
        assert!(close(upper_tail(0.0), 0.5, 1e-7));
        assert!(close(upper_tail(1.959_963_985), 0.025, 1e-7));
        assert!(close(upper_tail(-1.644_853_627), 0.95, 1e-7));
    }
}
