//! The errors of the plan layer besides a spec's problems ([`SpecError`]
//! lists those, each with its path).
//!
//! [`SpecError`]: super::SpecError

use std::str::FromStr;

use reqwest::Url;

/// Why a URL could not be parsed (the `url` crate's error, as reqwest's
/// [`Url`] gives it).
pub type UrlError = <Url as FromStr>::Err;

/// Something the plan layer could not do.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A check's path appended to a base URL does not make a URL.
    #[error("{0}")]
    PathNotJoinable(#[source] UrlError),
    /// `target.ca_pem` could not be read as PEM certificates.
    #[error("{0}")]
    Certificates(#[source] reqwest::Error),
    /// `target.ca_pem` reads as PEM but holds no certificate.
    #[error("no certificate in it")]
    NoCertificate,
}
