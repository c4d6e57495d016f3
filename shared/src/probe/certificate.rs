//! Green's leaf certificate, read from the TLS connection a response came
//! on: only its expiry, which is all an assertion asks of it. rustls has
//! verified it by then; this only reads it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::LeafCertificate;

/// The leaf certificate of the connection `response` came on; `None` when
/// it came over plain http.
pub(super) fn leaf(response: &reqwest::Response) -> Option<LeafCertificate> {
    let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
    info.peer_certificate().map(from_der)
}

/// A DER certificate's expiry, or why it cannot be read.
pub(super) fn from_der(der: &[u8]) -> LeafCertificate {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, certificate)) => {
            LeafCertificate::ExpiresAt(at(certificate.validity().not_after.timestamp()))
        }
        Err(error) => LeafCertificate::Unreadable(format!("not an X.509 certificate: {error}")),
    }
}

/// Unix seconds as a moment, saturating at what `SystemTime` can hold.
fn at(unix_seconds: i64) -> SystemTime {
    let offset = Duration::from_secs(unix_seconds.unsigned_abs());
    let moment = if unix_seconds >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    moment.unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_expiry_of_a_certificate() {
        // GIVEN a certificate valid until 2031-03-04 00:00:00 UTC
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["green.example".to_owned()]).expect("params");
        params.not_after = rcgen::date_time_ymd(2031, 3, 4);
        let certificate = params.self_signed(&key).expect("certificate");
        // WHEN its DER is read
        let read = from_der(certificate.der());
        // THEN the expiry is that moment
        assert_eq!(
            read,
            LeafCertificate::ExpiresAt(UNIX_EPOCH + Duration::from_secs(1_930_348_800))
        );
    }

    #[test]
    fn bytes_that_are_no_certificate_are_unreadable_not_a_panic() {
        let read = from_der(b"\x30\x03\x02\x01\x01 not a certificate");
        assert!(
            matches!(&read, LeafCertificate::Unreadable(why) if why.starts_with("not an X.509 certificate")),
            "{read:?}"
        );
    }
}
