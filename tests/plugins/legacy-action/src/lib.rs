//! An action plugin as a third party built it before 1.4.0: straight on the 1.3.0 WIT (whose
//! `action` interface is 1.1.0's), no SDK, no `pause-ms` in its answer. The gateway must keep
//! serving it. `config.answer` picks the outcome: `"delivered"` (HTTP status 299, so a test can
//! tell it from a real destination's) or `"limited"` (rate limited, 1 s); anything else is
//! refused by `check-config`.
#![allow(missing_docs, unsafe_code)]

wit_bindgen::generate!({
    world: "hookgate:plugin/action-plugin@1.3.0",
    path: [
        "../../../wit/deps/wasi-io@0.2.12.wit",
        "../../../wit/deps/wasi-clocks@0.2.12.wit",
        "../../../wit/deps/wasi-random@0.2.12.wit",
        "../../../wit/deps/wasi-filesystem@0.2.12.wit",
        "../../../wit/deps/wasi-sockets@0.2.12.wit",
        "../../../wit/deps/wasi-cli@0.2.12.wit",
        "../../../wit/deps/wasi-http@0.2.12.wit",
        "../../../wit/hookgate-plugin@1.3.0",
    ],
    // `wasi:http/outgoing-handler` reaches streams and pollables: generated here too.
    generate_all,
});

use exports::hookgate::plugin::action::Guest;
use hookgate::plugin::action_types::{
    ActionError, ActionMetadata, Delivered, Delivery, Failure, Retry,
};
use hookgate::plugin::log::{Level, log};

struct LegacyAction;

/// The `answer` of a config, found without a JSON parser (this plugin has no dependencies).
fn answer(config_json: &str) -> Option<&'static str> {
    ["delivered", "limited"]
        .into_iter()
        .find(|a| config_json.contains(&format!("\"answer\":\"{a}\"")))
}

impl Guest for LegacyAction {
    fn metadata() -> ActionMetadata {
        ActionMetadata {
            name: "legacy-action".into(),
            version: "0.9.0".into(),
            wit_version: "1.3.0".into(),
            description: "test action built on the 1.3.0 WIT without the SDK".into(),
        }
    }

    fn check_config(config_json: String) -> Result<(), String> {
        answer(&config_json)
            .map(|_| ())
            .ok_or_else(|| "answer must be \"delivered\" or \"limited\"".into())
    }

    fn run(delivery: Delivery) -> Result<Delivered, ActionError> {
        log(
            Level::Info,
            &format!("legacy delivery of {}", delivery.event_id),
        );
        match answer(&delivery.config_json) {
            Some("delivered") => Ok(Delivered {
                http_status: Some(299),
            }),
            _ => Err(ActionError::RateLimited(Retry {
                failure: Failure {
                    reason: "legacy: limited".into(),
                    http_status: Some(429),
                },
                after_ms: Some(1_000),
            })),
        }
    }
}

export!(LegacyAction);
