//! A metric gate's threshold: a fixed value, or one relative to blue's
//! (a ratio, an increase, or the Mann–Whitney rule), with the baseline
//! that says which of blue's values; and their validation.

use std::fmt;

use super::validator::Validator;
use crate::spec::MetricGateSpec;

/// A threshold: a fixed value, or one relative to blue's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Breach {
    /// Breached above this value.
    Above(f64),
    /// Breached below this value.
    Below(f64),
    /// Breached above this many times blue's value.
    RatioAbove(f64),
    /// Breached above blue's value plus this.
    IncreaseAbove(f64),
    /// Breached when green's per-period values are higher than blue's with
    /// a one-sided Mann–Whitney p-value below `alpha`, given at least
    /// `min_samples` values a side.
    MannWhitney {
        /// The significance level.
        alpha: f64,
        /// Values a side needed to decide.
        min_samples: u32,
    },
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::Above(limit) => write!(f, "<= {limit}"),
            Breach::Below(limit) => write!(f, ">= {limit}"),
            Breach::RatioAbove(ratio) => write!(f, "<= {ratio} × blue"),
            Breach::IncreaseAbove(delta) => write!(f, "<= blue + {delta}"),
            Breach::MannWhitney { alpha, min_samples } => write!(
                f,
                "not above blue (Mann–Whitney U, p >= {alpha}, n >= {min_samples} a side)"
            ),
        }
    }
}

impl Breach {
    /// Whether green's `value` breaches the threshold, given blue's value
    /// for a relative one; `None` when a relative one has no blue value.
    pub fn breached_by(self, value: f64, blue: Option<f64>) -> Option<bool> {
        match self {
            Breach::Above(limit) => Some(value > limit),
            Breach::Below(limit) => Some(value < limit),
            Breach::RatioAbove(ratio) => blue.map(|blue| value > ratio * blue),
            Breach::IncreaseAbove(delta) => blue.map(|blue| value > blue + delta),
            // Decided on per-period values, not one value (gate::samples).
            Breach::MannWhitney { .. } => None,
        }
    }

    /// Whether it needs blue's value.
    pub fn relative(self) -> bool {
        matches!(
            self,
            Breach::RatioAbove(_) | Breach::IncreaseAbove(_) | Breach::MannWhitney { .. }
        )
    }
}

/// Blue's values for a relative threshold: the gate's statistic over a
/// window that ends when the deployment began, on blue's target group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Baseline {
    /// Which of blue's values.
    pub when: BlueWindow,
    /// The window's length, in seconds (a multiple of 60).
    pub window_s: u32,
    /// Whether a look with no blue value passes (otherwise it breaches).
    pub inconclusive_passes: bool,
}

/// Which of blue's values a baseline compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlueWindow {
    /// Blue's own window before the deployment began: after the full
    /// shift, blue serves nothing.
    BeforeDeployment,
    /// The same periods as green's, while both serve traffic (green on the
    /// test listener, blue on production, before AllowTraffic).
    Concurrent,
}

impl Validator {
    /// Exactly one threshold: fixed, or relative to blue's value.
    pub(super) fn threshold(&mut self, at: &str, spec: &MetricGateSpec) -> Option<Breach> {
        match (
            spec.greater_than,
            spec.less_than,
            spec.at_most_ratio,
            spec.at_most_increase,
            spec.mann_whitney.as_ref(),
        ) {
            (Some(limit), None, None, None, None) => Some(Breach::Above(limit)),
            (None, Some(limit), None, None, None) => Some(Breach::Below(limit)),
            (None, None, Some(ratio), None, None) if ratio > 0.0 => Some(Breach::RatioAbove(ratio)),
            (None, None, None, Some(delta), None) if delta >= 0.0 => {
                Some(Breach::IncreaseAbove(delta))
            }
            (None, None, None, None, Some(test)) => self.mann_whitney(at, test),
            (None, None, Some(_), None, None) => {
                self.problem(
                    &format!("{at}.at_most_ratio"),
                    "expected a ratio above 0".to_owned(),
                );
                None
            }
            (None, None, None, Some(_), None) => {
                self.problem(
                    &format!("{at}.at_most_increase"),
                    "expected 0 or more".to_owned(),
                );
                None
            }
            _ => {
                self.problem(
                    at,
                    "expected exactly one of greater_than, less_than, at_most_ratio, at_most_increase, mann_whitney".to_owned(),
                );
                None
            }
        }
    }

    /// The statistical rule, its level and sample size in range.
    fn mann_whitney(&mut self, at: &str, spec: &crate::spec::MannWhitneySpec) -> Option<Breach> {
        let alpha = spec.alpha.unwrap_or(0.05);
        let min_samples = spec.min_samples.unwrap_or(10);
        let mut fine = true;
        if !(alpha > 0.0 && alpha <= 0.5) {
            self.problem(
                &format!("{at}.mann_whitney.alpha"),
                format!("expected more than 0 and at most 0.5, got {alpha}"),
            );
            fine = false;
        }
        let most = u32::try_from(crate::cloud::MAX_SERIES).unwrap_or(u32::MAX);
        if !(5..=most).contains(&min_samples) {
            self.problem(
                &format!("{at}.mann_whitney.min_samples"),
                format!("expected 5..={most}, got {min_samples}"),
            );
            fine = false;
        }
        fine.then_some(Breach::MannWhitney { alpha, min_samples })
    }

    /// The baseline, which a relative threshold needs and only it may have.
    pub(super) fn baseline(
        &mut self,
        at: &str,
        spec: Option<&crate::spec::BaselineSpec>,
        breach: Option<Breach>,
    ) -> Option<Baseline> {
        let relative = breach.is_some_and(Breach::relative);
        let Some(spec) = spec else {
            if relative {
                self.problem(
                    &format!("{at}.baseline"),
                    "at_most_ratio, at_most_increase and mann_whitney compare with blue: expected a baseline"
                        .to_owned(),
                );
            }
            return None;
        };
        if breach.is_some() && !relative {
            self.problem(
                &format!("{at}.baseline"),
                "only with at_most_ratio, at_most_increase or mann_whitney".to_owned(),
            );
        }
        let window_s = spec.window_s.unwrap_or(3600);
        if !(60..=86_400).contains(&window_s) || !window_s.is_multiple_of(60) {
            self.problem(
                &format!("{at}.baseline.window_s"),
                format!("expected a multiple of 60 from 60 to 86400, got {window_s}"),
            );
        }
        Some(Baseline {
            when: match spec.when {
                Some(crate::spec::BlueWindowSpec::Concurrent) => BlueWindow::Concurrent,
                _ => BlueWindow::BeforeDeployment,
            },
            window_s,
            inconclusive_passes: spec.inconclusive == Some(crate::spec::Inconclusive::Pass),
        })
    }
}
