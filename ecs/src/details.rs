//! What greenlight carries between rounds in `hookDetails`, under its own
//! key beside the service's: versioned, bound to one service deployment and
//! stage, bounded in size, and checked when read back. Anything else under
//! that key is refused: a judgement must never resume from a state it did
//! not write for this deployment.

use greenlight::RoundState;
use greenlight::carried::{self, CarriedError};
use greenlight::hook::EcsStage;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// The key greenlight keeps its state under, in `hookDetails`.
pub const KEY: &str = "greenlight";
/// The version of the state written now.
pub const VERSION: u32 = 1;
/// The largest state read back. What greenlight writes is a few hundred
/// bytes (one flag per metric gate at most).
pub const MAX_BYTES: usize = 4096;

/// The state between two rounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carried {
    /// [`VERSION`].
    pub v: u32,
    /// The service deployment it belongs to.
    pub deployment: String,
    /// The stage it belongs to.
    pub stage: EcsStage,
    /// Where the judgement stands.
    pub round: RoundState,
}

/// Why the carried state cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DetailsError {
    /// Too large to be greenlight's.
    #[error("hookDetails.{KEY}: {0} bytes, more than the {MAX_BYTES} greenlight ever writes")]
    TooLarge(usize),
    /// Not a state greenlight wrote.
    #[error("hookDetails.{KEY}: not a state greenlight wrote ({0})")]
    Malformed(String),
    /// Written by another version.
    #[error("hookDetails.{KEY}.v: version {0}, this function reads version {VERSION}")]
    Version(u64),
    /// Written for another deployment or stage.
    #[error("hookDetails.{KEY}: written for {what} {theirs}, and this is {ours}")]
    Foreign {
        /// `deployment` or `stage`.
        what: &'static str,
        /// What the state says.
        theirs: String,
        /// What the event says.
        ours: String,
    },
}

impl From<CarriedError> for DetailsError {
    fn from(error: CarriedError) -> Self {
        match error {
            CarriedError::TooLarge(size) => DetailsError::TooLarge(size),
            CarriedError::Version(v) => DetailsError::Version(v),
            CarriedError::Malformed(why) => DetailsError::Malformed(why),
        }
    }
}

/// The state carried in `details` for `deployment` at `stage`, if any.
pub fn read(
    details: &Map<String, Value>,
    deployment: &str,
    stage: EcsStage,
) -> Result<Option<RoundState>, DetailsError> {
    let Some(value) = details.get(KEY) else {
        return Ok(None);
    };
    let carried: Carried = carried::read(value, MAX_BYTES, VERSION)?;
    if carried.deployment != deployment {
        return Err(DetailsError::Foreign {
            what: "deployment",
            theirs: carried.deployment,
            ours: deployment.to_owned(),
        });
    }
    if carried.stage != stage {
        return Err(DetailsError::Foreign {
            what: "stage",
            theirs: carried.stage.to_string(),
            ours: stage.to_string(),
        });
    }
    Ok(Some(carried.round))
}

/// `details` with `round` carried for `deployment` at `stage`; the
/// service's own keys are kept. A state larger than [`read`] accepts is
/// refused here, not one round later.
pub fn write(
    details: &Map<String, Value>,
    deployment: &str,
    stage: EcsStage,
    round: RoundState,
) -> Result<Map<String, Value>, DetailsError> {
    let carried = Carried {
        v: VERSION,
        deployment: deployment.to_owned(),
        stage,
        round,
    };
    let value = serde_json::to_value(carried)
        .map_err(|error| DetailsError::Malformed(error.to_string()))?;
    let size = serde_json::to_string(&value).map_or(usize::MAX, |text| text.len());
    if size > MAX_BYTES {
        return Err(DetailsError::TooLarge(size));
    }
    let mut out = details.clone();
    out.insert(KEY.to_owned(), value);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use greenlight::BakeProgress;
    use greenlight::plan::GateTally;
    use serde_json::json;

    use super::*;

    const DEPLOYMENT: &str = "arn:aws:ecs:us-east-1:1:service-deployment/c/s/d1";

    fn round() -> RoundState {
        RoundState {
            since_ms: 1_000,
            rounds: 2,
            bake: Some(BakeProgress {
                since_ms: 2_000,
                looks: 1,
                gates: vec![
                    GateTally {
                        datapoints: 1,
                        breaches: 1,
                        run: 0,
                    },
                    GateTally::default(),
                ],
            }),
        }
    }

    #[test]
    fn what_is_written_reads_back_and_the_services_keys_stay() {
        let theirs = json!({"team": "web"}).as_object().unwrap().clone();
        let written = write(
            &theirs,
            DEPLOYMENT,
            EcsStage::PostProductionTrafficShift,
            round(),
        )
        .unwrap();
        assert_eq!(written["team"], "web");
        assert!(serde_json::to_string(&written).unwrap().len() < 300);
        let back = read(&written, DEPLOYMENT, EcsStage::PostProductionTrafficShift).unwrap();
        assert_eq!(back, Some(round()));
        assert_eq!(
            read(&theirs, DEPLOYMENT, EcsStage::PostProductionTrafficShift).unwrap(),
            None
        );
    }

    #[test]
    fn a_state_too_large_to_read_back_is_not_written() {
        let mut huge = round();
        huge.bake.as_mut().unwrap().gates = vec![GateTally::default(); 1000];
        let refused = write(
            &Map::new(),
            DEPLOYMENT,
            EcsStage::PostProductionTrafficShift,
            huge,
        )
        .unwrap_err()
        .to_string();
        assert!(
            refused.contains("more than the 4096 greenlight ever writes"),
            "{refused}"
        );
    }

    #[test]
    fn a_state_that_is_not_ours_for_this_deployment_is_refused() {
        let good = write(
            &Map::new(),
            DEPLOYMENT,
            EcsStage::PostProductionTrafficShift,
            round(),
        )
        .unwrap();
        let mut cases: Vec<(Value, &str)> = vec![
            (
                json!("resume"),
                "hookDetails.greenlight: not a state greenlight wrote (no version number",
            ),
            (
                json!({"v": 2}),
                "hookDetails.greenlight.v: version 2, this function reads version 1",
            ),
            (
                json!({"v": 1, "deployment": DEPLOYMENT}),
                "hookDetails.greenlight: not a state greenlight wrote (missing field",
            ),
            (
                json!({"v": 1, "x": "y".repeat(5000)}),
                "hookDetails.greenlight: 5014 bytes",
            ),
        ];
        let mut extra = good[KEY].clone();
        extra["round"]["admin"] = json!(true);
        cases.push((
            extra,
            "hookDetails.greenlight: not a state greenlight wrote (unknown field `admin`",
        ));
        let mut other = good[KEY].clone();
        other["deployment"] = json!("arn:aws:ecs:us-east-1:1:service-deployment/c/s/OTHER");
        cases.push((other, "hookDetails.greenlight: written for deployment arn:aws:ecs:us-east-1:1:service-deployment/c/s/OTHER"));
        for (value, expected) in cases {
            let details = json!({KEY: value}).as_object().unwrap().clone();
            let problem = read(&details, DEPLOYMENT, EcsStage::PostProductionTrafficShift)
                .unwrap_err()
                .to_string();
            assert!(problem.starts_with(expected), "{problem}");
        }
        let problem = read(&good, DEPLOYMENT, EcsStage::PostTestTrafficShift)
            .unwrap_err()
            .to_string();
        assert_eq!(
            problem,
            "hookDetails.greenlight: written for stage POST_PRODUCTION_TRAFFIC_SHIFT, and this is POST_TEST_TRAFFIC_SHIFT"
        );
    }
}
