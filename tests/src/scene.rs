//! Runs a fault-matrix [`Row`]: starts what it needs (its green, a second
//! green, an AWS world), fills the placeholders of its spec and environment,
//! runs the hook through [`Invocation::run`] (which asserts the deadline and
//! that no secret leaks), and asserts what the row expects.

use std::net::SocketAddr;

use serde_json::Value;

use crate::closed_port;
use crate::green::{Behaviour, GreenService};
use crate::hook::{Invocation, Run};
use crate::raw::RawGreen;
use crate::row::{Green, Row, Spec, check_spec_value, merge};
use crate::tls::TlsGreen;
use crate::world::World;

/// The green a row started.
#[derive(Debug)]
pub enum Started {
    /// An HTTP green.
    Service(GreenService),
    /// A green breaking below HTTP.
    Raw(RawGreen),
    /// A green over TLS.
    Tls(TlsGreen),
    /// Nothing: a URL.
    Url(String),
}

/// What a row runs against.
#[derive(Debug)]
pub struct Scene {
    /// Its green.
    pub green: Started,
    /// A second, healthy green (`OTHER_PORT`), for redirects elsewhere.
    pub other: GreenService,
    /// A closed port (`CLOSED_URL`), if the row names one.
    pub closed: Option<SocketAddr>,
    /// The AWS world, if the row has one.
    pub world: Option<World>,
}

impl Scene {
    /// Starts what `row` needs.
    pub async fn start(row: &Row) -> Scene {
        let mut closed = None;
        let green = match row.green {
            Green::Service(behaviour) => Started::Service(GreenService::start(behaviour).await),
            Green::Raw(script) => Started::Raw(RawGreen::start(script).await),
            Green::Tls { name, expired } => Started::Tls(if expired {
                TlsGreen::start_expired(name).await
            } else {
                TlsGreen::start(name).await
            }),
            Green::Url(url) => Started::Url(url.to_owned()),
            Green::Closed => {
                let addr = closed_port().await;
                closed = Some(addr);
                Started::Url(format!("http://{addr}"))
            }
        };
        if closed.is_none() && row.env.iter().any(|(_, v)| v.contains("CLOSED_URL")) {
            closed = Some(closed_port().await);
        }
        let other = GreenService::start(Behaviour::Healthy).await;
        let world = match &row.aws {
            Some(aws) => {
                let world = World::new(aws.setup).await;
                (aws.stage)(&world);
                if let Some(put) = aws.put {
                    put(&world).await;
                }
                Some(world)
            }
            None => None,
        };
        Scene {
            green,
            other,
            closed,
            world,
        }
    }

    /// The HTTP green; panics for another kind.
    pub fn service(&self) -> &GreenService {
        match &self.green {
            Started::Service(green) => green,
            other => panic!("not an HTTP green: {other:?}"),
        }
    }

    /// The raw green; panics for another kind.
    pub fn raw(&self) -> &RawGreen {
        match &self.green {
            Started::Raw(green) => green,
            other => panic!("not a raw green: {other:?}"),
        }
    }

    /// The AWS world; panics for a row without one.
    pub fn world(&self) -> &World {
        self.world.as_ref().expect("a row with an AWS world")
    }

    /// Requests the HTTP green served.
    pub fn requests(&self) -> usize {
        self.service().requests()
    }

    /// The green's base URL.
    pub fn url(&self) -> String {
        match &self.green {
            Started::Service(green) => green.url(),
            Started::Raw(green) => green.url(),
            Started::Tls(green) => format!("https://{}", green.addr()),
            Started::Url(url) => url.clone(),
        }
    }

    /// The green's port (0 for a URL without one).
    pub fn port(&self) -> u16 {
        match &self.green {
            Started::Raw(green) => green.addr().port(),
            Started::Tls(green) => green.addr().port(),
            _ => port_of(&self.url()),
        }
    }

    /// `text` with the placeholders filled in.
    pub fn fill(&self, text: &str) -> String {
        let mut text = text
            .replace("GREEN_URL", &self.url())
            .replace("GREEN_PORT", &self.port().to_string())
            .replace("OTHER_PORT", &port_of(&self.other.url()).to_string());
        if let Started::Tls(green) = &self.green {
            text = text.replace("GREEN_CA", green.ca_pem());
        }
        if let Some(closed) = self.closed {
            text = text.replace("CLOSED_URL", &format!("http://{closed}"));
        }
        text
    }

    /// `value` with the placeholders in its strings filled in.
    fn fill_value(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.fill(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.fill_value(v)),
            Value::Object(fields) => fields.values_mut().for_each(|v| self.fill_value(v)),
            _ => {}
        }
    }

    /// The text of `spec` for this scene (`None` for no spec).
    pub fn spec_text(&self, spec: &Spec) -> Option<String> {
        let mut value = match spec {
            Spec::Check(check, patch) => {
                let mut spec = check_spec_value("GREEN_URL", check.clone());
                merge(&mut spec, patch.clone());
                spec
            }
            Spec::Json(spec) => spec.clone(),
            Spec::Text(text) => return Some(self.fill(text)),
            Spec::World(extra) => self.world().spec(extra.clone()),
            Spec::None => return None,
        };
        self.fill_value(&mut value);
        Some(value.to_string())
    }

    /// The invocation of `row` with `spec`.
    pub fn invocation(&self, row: &Row, spec: &Spec) -> Invocation {
        let text = self.spec_text(spec);
        let set_up = |mut invocation: Invocation| {
            invocation = match &text {
                Some(text) => invocation.env("GREENLIGHT_SPEC", text),
                None => invocation.without_env("GREENLIGHT_SPEC"),
            };
            for &(name, value) in &row.env {
                invocation = invocation.env(name, &self.fill(value));
            }
            for &name in &row.without_env {
                invocation = invocation.without_env(name);
            }
            if let Some(timeout) = row.timeout {
                invocation.timeout = timeout;
            }
            invocation.faults = row.codedeploy.clone();
            invocation.build = row.build;
            invocation.deliveries = row.deliveries;
            invocation.hand_off_deliveries = row.hand_off_deliveries;
            for secret in &row.secrets {
                invocation = invocation.secret(secret);
            }
            if let Some(event) = &row.event {
                invocation.event = event.clone();
            }
            if let Some(patch) = &row.event_patch {
                merge(&mut invocation.event, patch.clone());
            }
            invocation
        };
        match &self.world {
            Some(world) => world.invocation(row.hook, set_up),
            None => set_up(Invocation::new(row.hook, "")),
        }
    }
}

/// Runs `row`: each of its specs, asserting what it expects, then its own
/// further assertions on the last run.
pub async fn run_row(row: &Row) {
    let scene = Scene::start(row).await;
    let mut last = None;
    for (spec, sees) in std::iter::once((&row.spec, row.sees))
        .chain(row.more_specs.iter().map(|(spec, sees)| (spec, *sees)))
    {
        let run: Run = scene.invocation(row, spec).run().await;
        row.assert(&run, sees);
        last = Some(run);
    }
    if let (Some(also), Some(run)) = (row.also, &last) {
        also(run, &scene);
    }
}

/// The port of `url` (`scheme://host:port`); 0 without one.
pub fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or(0)
}
