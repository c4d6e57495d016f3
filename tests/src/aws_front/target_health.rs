//! ELBv2 `DescribeTargetHealth` in states moto cannot stage: moto reports
//! every registered target `healthy`, always.

use std::fmt::Write as _;

use axum::http::StatusCode;

use super::{REQUEST_ID, Reply, State, xml_escape};

/// One target's health, as `DescribeTargetHealth` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    /// `Target.Id`: an IP address for target type `ip`.
    pub id: String,
    /// `Target.Port` (also the `HealthCheckPort`).
    pub port: u16,
    /// `healthy`, `unhealthy`, `initial`, `draining`, `unused`,
    /// `unavailable`, `unhealthy.draining`.
    pub state: String,
    /// E.g. `Target.FailedHealthChecks`.
    pub reason: Option<String>,
    /// The human-readable reason.
    pub description: Option<String>,
}

impl TargetHealth {
    fn new(id: &str, port: u16, state: &str, reason: Option<(&str, &str)>) -> Self {
        TargetHealth {
            id: id.to_owned(),
            port,
            state: state.to_owned(),
            reason: reason.map(|(code, _)| code.to_owned()),
            description: reason.map(|(_, text)| text.to_owned()),
        }
    }

    /// Passing health checks.
    pub fn healthy(id: &str, port: u16) -> Self {
        Self::new(id, port, "healthy", None)
    }

    /// Failing health checks.
    pub fn unhealthy(id: &str, port: u16) -> Self {
        Self::new(
            id,
            port,
            "unhealthy",
            Some(("Target.FailedHealthChecks", "Health checks failed")),
        )
    }

    /// Just registered, first health checks running.
    pub fn initial(id: &str, port: u16) -> Self {
        Self::new(
            id,
            port,
            "initial",
            Some((
                "Elb.InitialHealthChecking",
                "Initial health checks in progress",
            )),
        )
    }

    /// Being deregistered.
    pub fn draining(id: &str, port: u16) -> Self {
        Self::new(
            id,
            port,
            "draining",
            Some((
                "Target.DeregistrationInProgress",
                "Target deregistration is in progress",
            )),
        )
    }
}

/// The staged answer for the request's target group, if the test staged one;
/// `Targets.member.N.Id` narrows it as in ELBv2.
pub(super) fn answer(state: &mut State, form: &[(String, String)]) -> Option<Reply> {
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let staged = state.target_health.get_mut(field("TargetGroupArn")?)?;
    let asked: Vec<&str> = form
        .iter()
        .filter(|(key, _)| key.starts_with("Targets.member.") && key.ends_with(".Id"))
        .map(|(_, value)| value.as_str())
        .collect();
    let targets: Vec<TargetHealth> = staged
        .next()
        .into_iter()
        .filter(|t| asked.is_empty() || asked.contains(&t.id.as_str()))
        .collect();
    Some(Reply::new(
        StatusCode::OK,
        "text/xml",
        xml(&targets).into_bytes(),
    ))
}

/// The awsQuery answer, in the shape the SDK's deserializer walks.
fn xml(targets: &[TargetHealth]) -> String {
    let mut members = String::new();
    for target in targets {
        let mut health = format!("<State>{}</State>", xml_escape(&target.state));
        if let Some(reason) = &target.reason {
            write!(health, "<Reason>{}</Reason>", xml_escape(reason)).expect("write to a String");
        }
        if let Some(description) = &target.description {
            write!(
                health,
                "<Description>{}</Description>",
                xml_escape(description)
            )
            .expect("write to a String");
        }
        write!(
            members,
            "<member><Target><Id>{id}</Id><Port>{port}</Port></Target>\
             <HealthCheckPort>{port}</HealthCheckPort>\
             <TargetHealth>{health}</TargetHealth></member>",
            id = xml_escape(&target.id),
            port = target.port,
        )
        .expect("write to a String");
    }
    format!(
        "<DescribeTargetHealthResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
         <DescribeTargetHealthResult><TargetHealthDescriptions>{members}</TargetHealthDescriptions>\
         </DescribeTargetHealthResult>\
         <ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata>\
         </DescribeTargetHealthResponse>"
    )
}
