//! The certificate query: how many whole days green's leaf certificate has
//! left, judged by the number predicates, and shown with its expiry date so
//! that the operator knows when it runs out, not only that it does.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Actual;
use crate::probe::{LeafCertificate, ProbeResponse};

/// Said when a certificate assertion meets a response with no TLS.
pub(super) const NO_TLS: &str = "no TLS certificate: the response came over http";

const SECONDS_PER_DAY: i64 = 86_400;

/// The days the response's certificate has left, as of `now`.
pub(super) fn select(response: &ProbeResponse, now: SystemTime) -> Actual<'static> {
    match &response.certificate {
        None => Actual::Error(NO_TLS.to_owned()),
        Some(LeafCertificate::Unreadable(why)) => {
            Actual::Error(format!("the TLS certificate cannot be read: {why}"))
        }
        Some(LeafCertificate::ExpiresAt(at)) => Actual::Expires {
            days: seconds(*at)
                .saturating_sub(seconds(now))
                .div_euclid(SECONDS_PER_DAY),
            at: *at,
        },
    }
}

/// How a certificate's days left are shown: `expires in 3 days
/// (2026-12-09T10:00:00Z)`.
pub(super) fn render(days: i64, at: SystemTime) -> String {
    let when = rfc3339(at);
    if days < 0 {
        format!("expired ({when})")
    } else if days == 1 {
        format!("expires in 1 day ({when})")
    } else {
        format!("expires in {days} days ({when})")
    }
}

/// Unix seconds of a moment, saturating.
fn seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// A moment in UTC, to the second: `2026-12-09T10:00:00Z`.
fn rfc3339(at: SystemTime) -> String {
    let seconds = seconds(at);
    let (year, month, day) = civil(seconds.div_euclid(SECONDS_PER_DAY));
    let time = seconds.rem_euclid(SECONDS_PER_DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`): no date crate for one line of output.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(unix_seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix_seconds)
    }

    #[test]
    fn moments_are_shown_in_utc_to_the_second() {
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_796_810_400)), "2026-12-09T10:00:00Z");
        assert_eq!(rfc3339(at(4_102_444_799)), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn days_left_are_whole_days_rounded_down() {
        // GIVEN a certificate that expires 3 days and 23 hours from now
        let now = at(1_796_810_400);
        let response = |certificate| ProbeResponse {
            status: 200,
            headers: reqwest::header::HeaderMap::new(),
            body: String::new(),
            truncated: false,
            duration: Duration::ZERO,
            certificate,
        };
        let expires = now + Duration::from_secs(3 * 86_400 + 23 * 3600);
        let tls = response(Some(LeafCertificate::ExpiresAt(expires)));
        // THEN it has 3 days left, shown with its expiry
        let actual = select(&tls, now);
        assert_eq!(
            actual,
            Actual::Expires {
                days: 3,
                at: expires
            }
        );
        assert_eq!(
            render(3, expires),
            "expires in 3 days (2026-12-13T09:00:00Z)"
        );
        assert_eq!(
            render(1, expires),
            "expires in 1 day (2026-12-13T09:00:00Z)"
        );
        // AND one that expired an hour ago has less than none
        let past = response(Some(LeafCertificate::ExpiresAt(
            now - Duration::from_secs(3600),
        )));
        assert!(matches!(
            select(&past, now),
            Actual::Expires { days: -1, .. }
        ));
        // AND plain http has none at all
        assert_eq!(
            select(&response(None), now),
            Actual::Error(NO_TLS.to_owned())
        );
    }

    /// A planned check's certificate assertion, judged on what a fake green
    /// answers with `certificate`.
    async fn judged(certificate: Option<LeafCertificate>) -> crate::assertion::AssertionResult {
        use crate::probe::HttpProbe;
        use crate::probe::fake::{FakeProbe, Reply};
        let plan = crate::Plan::from_json(
            &serde_json::json!({
                "target": {"url": "https://green.example"},
                "checks": [{"name": "tls",
                            "assert": [{"certificate": {"expires_in_days_at_least": 14}}]}]
            })
            .to_string(),
        )
        .expect("valid spec");
        let check = &plan.checks[0];
        let mut probe = FakeProbe::answering(Reply::Json(200));
        if let Some(certificate) = certificate {
            probe = probe.presenting(certificate);
        }
        let response = probe
            .send(&check.steps[0].request, Duration::from_secs(1))
            .await
            .expect("a response");
        let mut results = crate::evaluation::evaluate(
            &check.steps[0].assertions,
            response,
            crate::assertion::Disclosure::default(),
            Duration::from_secs(1),
            tokio::time::Instant::now() + Duration::from_secs(1),
        )
        .await
        .expect("judged");
        results.remove(0)
    }

    #[tokio::test]
    async fn a_certificate_that_expires_too_soon_fails_naming_its_days() {
        // GIVEN green presenting a certificate with 3 days and an hour left
        let expires = SystemTime::now() + Duration::from_secs(3 * 86_400 + 3600);
        // WHEN a check that wants 14 days judges it
        let result = judged(Some(LeafCertificate::ExpiresAt(expires))).await;
        // THEN it fails, saying how many days are left and when it expires
        assert!(!result.passed);
        assert_eq!(result.expected, "certificate expires in >= 14 days");
        assert_eq!(
            result.actual,
            format!("expires in 3 days ({})", rfc3339(expires))
        );
    }

    #[tokio::test]
    async fn a_certificate_with_time_to_spare_passes() {
        let expires = SystemTime::now() + Duration::from_secs(90 * 86_400 + 3600);
        let result = judged(Some(LeafCertificate::ExpiresAt(expires))).await;
        assert!(result.passed, "{result:?}");
        assert_eq!(
            result.actual,
            format!("expires in 90 days ({})", rfc3339(expires))
        );
    }

    #[tokio::test]
    async fn plain_http_or_an_unreadable_certificate_fails_saying_so() {
        let plain = judged(None).await;
        assert!(!plain.passed);
        assert_eq!(plain.actual, NO_TLS);
        let unreadable = judged(Some(LeafCertificate::Unreadable("bad DER".to_owned()))).await;
        assert!(!unreadable.passed);
        assert_eq!(
            unreadable.actual,
            "the TLS certificate cannot be read: bad DER"
        );
    }
}
