//! Where the checks go this judgement: the base URL (the one given in the
//! context, else the spec's, else the discovered listener's) and, when `target.host` must be spoken to at the
//! URL's address, a probe pinned to that address, looked up now. The lookup
//! is bounded by its own cap and by the time the hook must stop probing.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;
use tokio::time::Instant;

use crate::discovery::Deployment;
use crate::fault_injection;
use crate::plan::Plan;
use crate::probe::HttpProbe;
use crate::time::millis;

/// Longest wait for the DNS answer that pins `target.host`, time permitting.
pub const DNS_TIMEOUT: Duration = Duration::from_secs(3);

/// Where the checks go.
pub(crate) struct Aim<P> {
    /// The URL the checks' paths are joined to.
    pub base: Url,
    /// A probe pinned to the address found for `target.host`, if any.
    pub probe: Option<P>,
}

/// Why the checks have nowhere to go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AimError {
    /// Neither a `target.url` nor a discovered listener.
    #[error("no target.url and no listener discovered")]
    NoTarget,
    /// The discovered listener gives no usable URL.
    #[error("{0}")]
    Listener(String),
    /// The resolver did not answer within [`DNS_TIMEOUT`].
    #[error("cannot resolve {host}: no answer within {waited_ms} ms")]
    ResolverSilent {
        /// The name looked up.
        host: String,
        /// How long it was given.
        waited_ms: u64,
    },
    /// The hook had to stop probing before the resolver answered.
    #[error(
        "cannot resolve {host}: no answer before the hook had to report (waited {waited_ms} ms)"
    )]
    OutOfTime {
        /// The name looked up.
        host: String,
        /// How long it waited.
        waited_ms: u64,
    },
    /// The resolver answered with an error, or with no address.
    #[error("cannot resolve {host}: {detail}")]
    Resolve {
        /// The name looked up.
        host: String,
        /// The resolver's words.
        detail: String,
    },
    /// `target.host` cannot stand in the URL.
    #[error("target.host {host:?}: {detail}")]
    Host {
        /// `target.host`.
        host: String,
        /// Why not.
        detail: String,
    },
    /// No HTTP client could be pinned to the address.
    #[error("{0}")]
    Pin(String),
}

/// The base URL of the checks (`url` when given, else the discovered
/// listener's) and, when a host name must be pinned to an address found now,
/// a probe that does so; any lookup ends by `stop_at`.
pub(crate) async fn aim<P: HttpProbe>(
    probe: &P,
    plan: &Plan,
    url: Option<&Url>,
    deployment: Option<&Deployment>,
    stop_at: Instant,
) -> Result<Aim<P>, AimError> {
    let mut base = match (url, deployment.and_then(|d| d.endpoint.as_ref())) {
        (Some(url), _) => url.clone(),
        (None, Some(endpoint)) => endpoint.url().map_err(AimError::Listener)?,
        (None, None) => return Err(AimError::NoTarget),
    };
    let Some(host) = &plan.target.host else {
        return Ok(Aim { base, probe: None });
    };
    // Connect where the URL points, but speak to `host` there.
    let address_of = base.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = base.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match plan
        .target
        .resolve
        .iter()
        .find(|(name, _)| *name == address_of)
    {
        Some((_, ip)) => vec![SocketAddr::new(*ip, port)],
        None => bounded_lookup(&address_of, lookup(&address_of, port), stop_at).await?,
    };
    base.set_host(Some(host)).map_err(|error| AimError::Host {
        host: host.clone(),
        detail: error.to_string(),
    })?;
    let probe = probe.pinned(host, &addrs).map_err(AimError::Pin)?;
    Ok(Aim {
        base,
        probe: Some(probe),
    })
}

/// Waits for `lookup` of `host` until [`DNS_TIMEOUT`] has passed or `stop_at`
/// has come, whichever is first, and says which.
async fn bounded_lookup(
    host: &str,
    lookup: impl Future<Output = std::io::Result<Vec<SocketAddr>>>,
    stop_at: Instant,
) -> Result<Vec<SocketAddr>, AimError> {
    let started = Instant::now();
    let cap = started + DNS_TIMEOUT;
    let until = cap.min(stop_at);
    match tokio::time::timeout_at(until, lookup).await {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(AimError::Resolve {
            host: host.to_owned(),
            detail: "no address".to_owned(),
        }),
        Ok(Err(error)) => Err(AimError::Resolve {
            host: host.to_owned(),
            detail: error.to_string(),
        }),
        Err(_) if until < cap => Err(AimError::OutOfTime {
            host: host.to_owned(),
            waited_ms: millis(started.elapsed()),
        }),
        Err(_) => Err(AimError::ResolverSilent {
            host: host.to_owned(),
            waited_ms: millis(DNS_TIMEOUT),
        }),
    }
}

/// The addresses of `host`, as the system resolver finds them (in test builds,
/// a host under [`fault_injection::SLOW_DNS_SUFFIX`] meets a slow resolver).
async fn lookup(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    if fault_injection::slow_dns(host) {
        tokio::time::sleep(fault_injection::SLOW_DNS_DELAY).await;
        return Err(std::io::Error::other("injected slow resolver: no answer"));
    }
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "alb.example.test";

    fn silent() -> impl Future<Output = std::io::Result<Vec<SocketAddr>>> {
        std::future::pending()
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_resolver_is_cut_when_the_hook_must_stop() {
        // GIVEN a resolver that never answers, and 600 ms before the hook
        // must stop probing
        let stop_at = Instant::now() + Duration::from_millis(600);
        // WHEN the lookup runs
        let error = bounded_lookup(HOST, silent(), stop_at).await.unwrap_err();
        // THEN it ends at the stop time, naming the host and why
        assert_eq!(
            error,
            AimError::OutOfTime {
                host: HOST.to_owned(),
                waited_ms: 600
            }
        );
        assert_eq!(
            error.to_string(),
            "cannot resolve alb.example.test: no answer before the hook had to report (waited 600 ms)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_resolver_is_cut_at_its_own_cap_when_time_is_left() {
        let stop_at = Instant::now() + Duration::from_secs(60);
        let error = bounded_lookup(HOST, silent(), stop_at).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot resolve alb.example.test: no answer within 3000 ms"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_time_already_past_ends_the_lookup_at_once() {
        let stop_at = Instant::now();
        tokio::time::advance(Duration::from_millis(5)).await;
        let error = bounded_lookup(HOST, silent(), stop_at).await.unwrap_err();
        assert!(
            matches!(error, AimError::OutOfTime { waited_ms: 0, .. }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_answer_without_an_address_is_an_error() {
        let stop_at = Instant::now() + Duration::from_secs(5);
        let error = bounded_lookup(HOST, async { Ok(Vec::new()) }, stop_at)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot resolve alb.example.test: no address"
        );
    }
}
