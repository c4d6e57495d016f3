//! A small web application in two releases, blue and green, that share what
//! real releases share: a session store and a database. It plays the cases
//! a flow must tell apart: a session set by blue that green does (or does
//! not) know, a token-protected API reached by a chain of requests, an
//! answer whose JSON green changes, and a migration by green that breaks
//! blue.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// What blue and green share.
#[derive(Debug)]
pub struct Shared {
    /// Sessions by ID: the shared store (ElastiCache, say).
    sessions: Mutex<HashMap<String, String>>,
    /// The database's schema version.
    schema: Mutex<u32>,
    /// Tokens handed out, by user.
    tokens: Mutex<Vec<String>>,
    /// For unique IDs.
    counter: AtomicUsize,
    /// Each request served: the release's name and the path.
    served: Mutex<Vec<(&'static str, String)>>,
}

impl Shared {
    /// A store and a database at schema 1.
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            sessions: Mutex::new(HashMap::new()),
            schema: Mutex::new(1),
            tokens: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            served: Mutex::new(Vec::new()),
        })
    }

    /// The paths release `name` served, in order.
    pub fn served_by(&self, name: &str) -> Vec<String> {
        self.served
            .lock()
            .expect("lock")
            .iter()
            .filter(|(by, _)| *by == name)
            .map(|(_, path)| path.clone())
            .collect()
    }

    /// Every token handed out so far.
    pub fn tokens(&self) -> Vec<String> {
        self.tokens.lock().expect("lock").clone()
    }

    /// The database's schema version now.
    pub fn schema(&self) -> u32 {
        *self.schema.lock().expect("lock")
    }
}

/// How a release behaves.
#[derive(Debug, Clone)]
pub struct Release {
    /// `blue` or `green`, as [`Shared::served_by`] names it.
    pub name: &'static str,
    /// Sessions kept in the shared store (`true`) or in this release's own
    /// memory, which the other colour never sees.
    pub shared_sessions: bool,
    /// Schema versions this release can read.
    pub reads_schema: Vec<u32>,
    /// The schema version it migrates the database to when it starts.
    pub migrates_to: Option<u32>,
    /// `/api/items` gives each price as a string, not a number.
    pub price_as_string: bool,
    /// `/api/items` adds a field.
    pub new_field: bool,
}

impl Release {
    /// Blue as it runs in production.
    pub fn blue() -> Release {
        Release {
            name: "blue",
            shared_sessions: true,
            reads_schema: vec![1],
            migrates_to: None,
            price_as_string: false,
            new_field: false,
        }
    }

    /// A green that changes nothing blue relies on.
    pub fn good_green() -> Release {
        Release {
            name: "green",
            reads_schema: vec![1, 2],
            ..Release::blue()
        }
    }
}

struct App {
    release: Release,
    shared: Arc<Shared>,
    own_sessions: Mutex<HashMap<String, String>>,
}

/// The routes of `release`, sharing `shared`; a migrating release migrates
/// now.
pub fn routes(release: Release, shared: Arc<Shared>) -> Router {
    if let Some(version) = release.migrates_to {
        *shared.schema.lock().expect("lock") = version;
    }
    let app = Arc::new(App {
        release,
        shared,
        own_sessions: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/api/orders", get(orders))
        .route("/api/orders/{id}", get(order))
        .route("/api/items", get(items))
        .route("/db/orders", get(db_orders))
        .layer(middleware::from_fn_with_state(app.clone(), served))
        .with_state(app)
}

/// Notes each request with the release that served it.
async fn served(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    app.shared
        .served
        .lock()
        .expect("lock")
        .push((app.release.name, request.uri().path().to_owned()));
    next.run(request).await
}

impl App {
    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        if self.release.shared_sessions {
            self.shared.sessions.lock().expect("lock")
        } else {
            self.own_sessions.lock().expect("lock")
        }
    }

    fn user_of_token(&self, headers: &HeaderMap) -> Option<String> {
        let token = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        self.shared
            .tokens
            .lock()
            .expect("lock")
            .iter()
            .any(|t| t == token)
            .then(|| "alice".to_owned())
    }
}

/// `POST /login {"user": "alice"}`: a session cookie and a bearer token.
async fn login(State(app): State<Arc<App>>, body: String) -> Response {
    let user = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["user"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "anonymous".to_owned());
    let n = app.shared.counter.fetch_add(1, Ordering::SeqCst);
    let session = format!("sess-{n:04}-5f2b9c1e7a");
    let token = format!("tok-{n:04}-8d3e6a0b4c91f7");
    app.sessions().insert(session.clone(), user.clone());
    app.shared.tokens.lock().expect("lock").push(token.clone());
    (
        StatusCode::OK,
        [(
            header::SET_COOKIE,
            format!("sid={session}; Path=/; HttpOnly"),
        )],
        Json(json!({"user": user, "token": token})),
    )
        .into_response()
}

/// `GET /me`: who the session cookie belongs to, or 401.
async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let session = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| {
            cookies
                .split(';')
                .find_map(|c| c.trim().strip_prefix("sid=").map(str::to_owned))
        });
    match session.and_then(|s| app.sessions().get(&s).cloned()) {
        Some(user) => (StatusCode::OK, Json(json!({"user": user}))).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "not logged in"})),
        )
            .into_response(),
    }
}

/// `GET /api/orders` with a bearer token: the user's orders.
async fn orders(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match app.user_of_token(&headers) {
        Some(user) => {
            Json(json!({"user": user, "orders": [{"id": "o-17"}, {"id": "o-18"}]})).into_response()
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// `GET /api/orders/{id}` with a bearer token: one order.
async fn order(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match app.user_of_token(&headers) {
        Some(_) if id.starts_with("o-") => {
            Json(json!({"id": id, "total_cents": 1250})).into_response()
        }
        Some(_) => StatusCode::NOT_FOUND.into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// `GET /api/items`: the catalogue, as this release shapes it.
async fn items(State(app): State<Arc<App>>) -> Response {
    let price = if app.release.price_as_string {
        json!("9.50")
    } else {
        json!(9.5)
    };
    let mut item = json!({"id": 1, "name": "tea", "price": price});
    if app.release.new_field {
        item["currency"] = json!("EUR");
    }
    Json(json!({"items": [item], "count": 1})).into_response()
}

/// `GET /db/orders`: reads the database, which fails when its schema is
/// one this release cannot read.
async fn db_orders(State(app): State<Arc<App>>) -> Response {
    let schema = app.shared.schema();
    if app.release.reads_schema.contains(&schema) {
        Json(json!({"orders": 2, "schema": schema})).into_response()
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(
                json!({"error": format!("column orders.amount does not exist (schema {schema})")}),
            ),
        )
            .into_response()
    }
}
