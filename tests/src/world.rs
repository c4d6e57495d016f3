//! An AWS world for a hook: moto's server, the front before it, a green
//! service on the test listener and another on the production listener, and
//! an ECS blue/green deployment staged with those listener ports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::aws_front::AwsFront;
use crate::fixture::{EcsBlueGreen, Setup, lifecycle_event_of};
use crate::green::{Behaviour, GreenService};
use crate::hook::{Invocation, Run};
use crate::moto::MotoServer;

/// moto, the front, the two greens and the deployment.
pub struct World {
    /// moto's server.
    pub moto: MotoServer,
    /// The one AWS endpoint the hook talks to.
    pub front: Arc<AwsFront>,
    /// The deployment.
    pub fixture: EcsBlueGreen,
    /// Green behind the test listener.
    pub test_green: GreenService,
    /// Green behind the production listener.
    pub prod_green: GreenService,
    /// Whether the test staged the deployment's lifecycle events itself;
    /// otherwise each run stages its hook's own event in progress.
    lifecycle_staged: AtomicBool,
}

impl World {
    /// Starts it all, the deployment as `setup` makes it.
    pub async fn new(setup: impl FnOnce(Setup) -> Setup) -> World {
        let test_green = GreenService::start(Behaviour::Healthy).await;
        let prod_green = GreenService::start(Behaviour::Healthy).await;
        World::around(test_green, prod_green, setup).await
    }

    /// Starts it all around these services: `test_green` behind the test
    /// listener, `prod_green` behind production (blue, before AllowTraffic).
    pub async fn around(
        test_green: GreenService,
        prod_green: GreenService,
        setup: impl FnOnce(Setup) -> Setup,
    ) -> World {
        let moto = MotoServer::start().await;
        let front = AwsFront::start(Some(moto.url())).await;
        let fixture = setup(Setup::new(port(&test_green), port(&prod_green)))
            .create(&crate::moto::sdk_config(&moto.url()), &front)
            .await;
        World {
            moto,
            front: Arc::new(front),
            fixture,
            test_green,
            prod_green,
            lifecycle_staged: AtomicBool::new(false),
        }
    }

    /// Puts the deployment in lifecycle event `event` for every later run,
    /// whichever hook runs.
    pub fn stage_lifecycle_event(&self, event: &str) {
        self.fixture.stage_lifecycle_event(&self.front, event);
        self.lifecycle_staged.store(true, Ordering::SeqCst);
    }

    /// A spec with no URL: the listener comes from the deployment, and its
    /// load balancer's name (which does not resolve) is pinned to 127.0.0.1.
    pub fn spec(&self, extra: Value) -> Value {
        let mut spec = json!({
            "target": {"resolve": {self.fixture.load_balancer_dns.clone(): "127.0.0.1"}},
            "readiness": {"timeout_ms": 3000, "interval_ms": 500},
            "checks": [{
                "name": "health",
                "path": "/health",
                "retry": {"attempts": 1},
                "assert": [{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]
            }]
        });
        if let (Value::Object(spec), Value::Object(extra)) = (&mut spec, extra) {
            spec.extend(extra);
        }
        spec
    }

    /// Runs `hook` with `spec` on the staged deployment.
    pub async fn run(&self, hook: &str, spec: &Value) -> Run {
        self.run_with(hook, |invocation| {
            invocation.env("GREENLIGHT_SPEC", &spec.to_string())
        })
        .await
    }

    /// Runs `hook` on the staged deployment, its invocation (20 s timeout)
    /// changed by `change`. Unless the test staged the lifecycle events, the
    /// deployment is in the hook's own lifecycle event, as when CodeDeploy
    /// invokes it.
    pub async fn run_with(&self, hook: &str, change: impl FnOnce(Invocation) -> Invocation) -> Run {
        self.invocation(hook, change).run().await
    }

    /// The invocation [`World::run_with`] runs.
    pub fn invocation(
        &self,
        hook: &str,
        change: impl FnOnce(Invocation) -> Invocation,
    ) -> Invocation {
        if !self.lifecycle_staged.load(Ordering::SeqCst) {
            self.fixture
                .stage_lifecycle_event(&self.front, lifecycle_event_of(hook));
        }
        let mut invocation = Invocation::new(hook, "").with_front(self.front.clone());
        invocation.timeout = Duration::from_secs(20);
        let mut invocation = change(invocation);
        invocation.event["DeploymentId"] = Value::String(self.fixture.deployment_id.clone());
        invocation
    }
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("moto", &self.moto.url())
            .field("deployment_id", &self.fixture.deployment_id)
            .finish_non_exhaustive()
    }
}

/// The port `green` listens on.
pub fn port(green: &GreenService) -> u16 {
    green
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}
