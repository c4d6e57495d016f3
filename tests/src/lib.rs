//! Test support for greenlight's end-to-end tests and local demo: the parts of
//! the world a hook talks to, played on 127.0.0.1.
//!
//! - [`runtime_api::RuntimeApi`]: a local Lambda Runtime API that hands the real
//!   hook binary an event, with a deadline, and collects its answer.
//! - [`aws_front::AwsFront`]: the one local endpoint for every AWS API a hook
//!   calls. It records each call and `PutLifecycleEventHookExecutionStatus`,
//!   injects faults, serves what moto lacks, patches the states moto cannot
//!   stage, and forwards the rest to moto.
//! - [`moto::MotoServer`]: moto's AWS emulator, one process per test.
//! - [`fixture::EcsBlueGreen`]: an ECS blue/green deployment set up in moto
//!   (and in the front) with the Rust SDK.
//! - [`codedeploy::CodeDeployStandIn`]: the front without moto, for status
//!   calls alone.
//! - [`green::GreenService`]: a local HTTP server playing the green task set;
//!   [`app`]: blue and green releases of a small application sharing a
//!   session store and a database, served by two of them.
//! - [`raw::RawGreen`]: a green that breaks responses below HTTP (reset,
//!   stalled or gigabyte bodies, no TLS); [`tls::TlsGreen`]: green over TLS
//!   with a test CA.
//! - [`hook::HookProcess`]: runs a compiled hook binary against them;
//!   [`binaries`] says where the binaries come from.
//! - [`world::World`]: moto, the front, the two greens and the deployment,
//!   together.
//! - [`row::Row`]: one row of the fault matrix as data; [`scene::run_row`]
//!   runs it, and [`fault_doc`] renders `docs/fault-matrix.md` from the rows.

pub mod app;
pub mod aws_front;
pub mod binaries;
pub mod codedeploy;
pub mod ecs_faults;
pub mod ecs_native;
pub(crate) mod elb;
pub mod fault_doc;
pub mod fixture;
pub mod green;
pub mod hook;
pub mod moto;
pub mod raw;
pub mod row;
pub mod runtime_api;
pub mod scene;
pub mod tls;
pub mod world;

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Binds a listener on an ephemeral loopback port.
pub async fn loopback() -> (TcpListener, SocketAddr) {
    bind("127.0.0.1:0").await
}

/// Binds a listener on `addr` (a loopback address).
pub async fn bind(addr: &str) -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// A loopback address where nothing listens (connection refused).
pub async fn closed_port() -> SocketAddr {
    let (listener, addr) = loopback().await;
    drop(listener);
    addr
}

/// Serves `router` on `listener` until the returned handle is dropped.
pub fn serve(listener: TcpListener, router: axum::Router) -> ServerHandle {
    ServerHandle(tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    }))
}

/// Stops its server when dropped.
#[derive(Debug)]
pub struct ServerHandle(tokio::task::JoinHandle<()>);

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}
