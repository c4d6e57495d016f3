//! Lambda's `Invoke` (REST-JSON), so that a hook that hands its wait to a
//! later, asynchronous invocation of itself can do so in tests: the front
//! answers as Lambda does and records each invocation instead of running it.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{AwsFront, Call, Errors, REQUEST_ID, Reply, State, percent_decode};

/// The operation name calls are recorded (and faults injected) under.
pub(super) const INVOKE: &str = "Invoke";

const PREFIX: &str = "/2015-03-31/functions/";
const SUFFIX: &str = "/invocations";

/// One `Invoke` the front answered with success.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaInvocation {
    /// `FunctionName` from the path, decoded: a name or an ARN, possibly
    /// with a `:qualifier`.
    pub function: String,
    /// `X-Amz-Invocation-Type`: `Event`, `RequestResponse` (also when the
    /// header is absent) or `DryRun`.
    pub invocation_type: String,
    /// The payload as JSON; `Value::Null` when it is not JSON (or empty).
    pub payload: Value,
}

impl AwsFront {
    /// Every `Invoke` answered with success so far, in order.
    pub fn invocations(&self) -> Vec<LambdaInvocation> {
        self.shared.state().invocations.clone()
    }

    /// The invocations so far, forgotten here: for a test that hands each
    /// one on (e.g. runs the hook again with its payload) exactly once.
    pub fn take_invocations(&self) -> Vec<LambdaInvocation> {
        std::mem::take(&mut self.shared.state().invocations)
    }
}

/// The decoded `FunctionName` if `path` is an `Invoke` one.
pub(super) fn function_name(path: &str) -> Option<String> {
    let encoded = path.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if encoded.is_empty() || encoded.contains('/') {
        return None;
    }
    // A path keeps `+` literal; the form decoder would make it a space.
    Some(percent_decode(&encoded.replace('+', "%2B")))
}

/// `Invoke`: 202 with no body for `Event`, 204 for `DryRun`, 200 with `{}`
/// (what the function "returned") for `RequestResponse`; recorded.
pub(super) fn invoke(state: &mut State, call: &Call) -> Reply {
    let invocation_type = call
        .headers
        .get("x-amz-invocation-type")
        .map_or("RequestResponse", |v| v.to_str().unwrap_or_default());
    let (status, body) = match invocation_type {
        "Event" => (StatusCode::ACCEPTED, ""),
        "DryRun" => (StatusCode::NO_CONTENT, ""),
        "RequestResponse" => (StatusCode::OK, "{}"),
        other => {
            let message = format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to \
                 satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            );
            return rest_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                &message,
            );
        }
    };
    state.invocations.push(LambdaInvocation {
        function: function_name(call.uri.path()).unwrap_or_default(),
        invocation_type: invocation_type.to_owned(),
        payload: call.json(),
    });
    let reply = Reply::new(status, "application/json", body.as_bytes().to_vec())
        .header("x-amzn-requestid", REQUEST_ID);
    if status == StatusCode::OK {
        reply.header("x-amz-executed-version", "$LATEST")
    } else {
        reply
    }
}

/// An error in Lambda's terms: the front's generic throttling and internal
/// errors become `TooManyRequestsException` (429) and `ServiceException`
/// (500); access denied is 403; anything else keeps its code and status.
pub(super) fn error(status: StatusCode, kind: Errors, message: &str) -> Reply {
    let (code, status) = match kind.json {
        "ThrottlingException" => ("TooManyRequestsException", StatusCode::TOO_MANY_REQUESTS),
        "InternalFailure" => ("ServiceException", StatusCode::INTERNAL_SERVER_ERROR),
        "AccessDeniedException" => ("AccessDeniedException", StatusCode::FORBIDDEN),
        other => (other, status),
    };
    rest_error(status, code, message)
}

/// A REST-JSON error: the code in `x-amzn-errortype` (where the SDK reads
/// it), `{"Type", "message"}` in the body.
fn rest_error(status: StatusCode, code: &str, message: &str) -> Reply {
    let blame = if status.is_server_error() {
        "Service"
    } else {
        "User"
    };
    let body = json!({"Type": blame, "message": message});
    Reply::new(status, "application/json", body.to_string().into_bytes())
        .header("x-amzn-errortype", code)
        .header("x-amzn-requestid", REQUEST_ID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_front::Service;
    use crate::codedeploy::Fault;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:greenlight-hook:live";

    fn invocations_url(front: &AwsFront, function: &str) -> String {
        let encoded = function.replace(':', "%3A");
        format!("{}{PREFIX}{encoded}{SUFFIX}", front.url())
    }

    async fn post(front: &AwsFront, kind: Option<&str>, body: &str) -> reqwest::Response {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("HTTP client");
        let mut request = client
            .post(invocations_url(front, ARN))
            .body(body.to_owned());
        if let Some(kind) = kind {
            request = request.header("x-amz-invocation-type", kind);
        }
        request.send().await.expect("the front answers")
    }

    #[test]
    fn function_names_are_taken_from_invocation_paths_only() {
        assert_eq!(
            function_name(
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Ax%3Afunction%3Af/invocations"
            ),
            Some("arn:aws:lambda:x:function:f".to_owned())
        );
        assert_eq!(
            function_name("/2015-03-31/functions/a+b/invocations"),
            Some("a+b".to_owned())
        );
        assert_eq!(function_name("/2015-03-31/functions//invocations"), None);
        assert_eq!(function_name("/2015-03-31/functions/f"), None);
    }

    #[tokio::test]
    async fn invokes_are_answered_as_lambda_does_and_recorded_in_order() {
        // GIVEN a front
        let front = AwsFront::start(None).await;

        // WHEN a hook invokes itself asynchronously, then synchronously with
        // a payload that is not JSON
        let event = post(&front, Some("Event"), r#"{"resume":"d-1"}"#).await;
        let event_status = event.status().as_u16();
        let event_body = event.text().await.expect("body");
        let sync = post(&front, None, "not json").await;
        let sync_status = sync.status().as_u16();
        let sync_body = sync.text().await.expect("body");

        // THEN the Event one is accepted with no body, the other answered `{}`
        assert_eq!((event_status, event_body.as_str()), (202, ""));
        assert_eq!((sync_status, sync_body.as_str()), (200, "{}"));
        // AND both are recorded as Lambda Invoke calls
        let calls: Vec<(Service, String, u16)> = front
            .api_calls()
            .into_iter()
            .map(|c| (c.service, c.operation, c.answered))
            .collect();
        assert_eq!(
            calls,
            vec![
                (Service::Lambda, INVOKE.to_owned(), 202),
                (Service::Lambda, INVOKE.to_owned(), 200),
            ]
        );
        // AND as invocations, with function, type and payload, in order
        let expected = vec![
            LambdaInvocation {
                function: ARN.to_owned(),
                invocation_type: "Event".to_owned(),
                payload: json!({"resume": "d-1"}),
            },
            LambdaInvocation {
                function: ARN.to_owned(),
                invocation_type: "RequestResponse".to_owned(),
                payload: Value::Null,
            },
        ];
        assert_eq!(front.invocations(), expected);
        // AND taking them hands them over once
        assert_eq!(front.take_invocations(), expected);
        assert_eq!(front.invocations(), vec![]);
    }

    #[tokio::test]
    async fn faults_on_invoke_are_lambda_errors_and_not_invocations() {
        // GIVEN a front that fails the next three invokes
        let front = AwsFront::start(None).await;
        front.fail_next(
            INVOKE,
            &[Fault::AccessDenied, Fault::Throttle, Fault::ServerError],
        );

        // WHEN a hook invokes itself four times
        let mut answers = Vec::new();
        for _ in 0..4 {
            let response = post(&front, Some("Event"), "{}").await;
            let status = response.status().as_u16();
            let code = response
                .headers()
                .get("x-amzn-errortype")
                .map(|v| v.to_str().expect("ASCII").to_owned());
            let body: Value = response
                .text()
                .await
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null);
            answers.push((status, code, body["Type"].clone()));
        }

        // THEN the faults come back in Lambda's REST-JSON terms, in order,
        // and the fourth invoke is accepted
        let error = |status, code: &str, blame: &str| (status, Some(code.to_owned()), json!(blame));
        assert_eq!(
            answers,
            vec![
                error(403, "AccessDeniedException", "User"),
                error(429, "TooManyRequestsException", "User"),
                error(500, "ServiceException", "Service"),
                (202, None, Value::Null),
            ]
        );
        // AND only the accepted one is an invocation
        assert_eq!(front.invocations().len(), 1);
        assert_eq!(front.count(INVOKE), 4);
    }

    #[tokio::test]
    async fn an_always_failing_invoke_records_no_invocation() {
        // GIVEN a front on which every invoke is denied
        let front = AwsFront::start(None).await;
        front.fail(INVOKE, Fault::AccessDenied);

        // WHEN a hook invokes itself
        let response = post(&front, Some("Event"), "{}").await;

        // THEN it is denied with a message naming the action, and nothing is
        // recorded as invoked
        assert_eq!(response.status().as_u16(), 403);
        assert_eq!(
            response
                .headers()
                .get("x-amzn-errortype")
                .map(|v| v.as_bytes()),
            Some(&b"AccessDeniedException"[..])
        );
        let body: Value = response.json().await.expect("JSON body");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("lambda:Invoke"), "{message}");
        assert_eq!(front.invocations(), vec![]);
    }
}
