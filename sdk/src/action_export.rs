//! Glue between the wit-bindgen bindings of the `action-plugin` world and [`crate::Action`];
//! used by [`crate::export_action!`]. Kept apart from the platform glue in [`crate::export`] because
//! the two worlds come from different WIT versions with distinct generated types.

use crate::action::{Action, ActionError, Delivered, Delivery};
use crate::action_bindings::hookgate::plugin::action_types as at;

/// Metadata for the plugin, with the plugin crate's own version.
pub fn metadata<A: Action>(version: &str) -> at::ActionMetadata {
    let m = A::metadata();
    at::ActionMetadata {
        name: m.name,
        version: version.to_owned(),
        wit_version: crate::ACTION_WIT_VERSION.to_owned(),
        description: m.description,
    }
}

/// Parses the route config and calls [`Action::check_config`]. Invalid JSON is refused here so
/// every plugin reports it the same way.
pub fn check_config<A: Action>(config_json: &str) -> Result<(), String> {
    let config = parse_config(config_json)?;
    A::check_config(&config)
}

fn parse_config(config_json: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(config_json).map_err(|e| format!("route config is not valid JSON: {e}"))
}

/// Calls [`Action::run`]. A config that is not JSON never reaches the plugin: it is a
/// permanent failure, since retrying the same config cannot fix it.
pub fn run<A: Action>(d: at::Delivery) -> Result<at::Delivered, at::ActionError> {
    let config = parse_config(&d.config_json).map_err(|reason| {
        at::ActionError::Permanent(at::Failure {
            reason,
            http_status: None,
        })
    })?;
    let delivery = Delivery {
        event_json: d.event_json,
        event_id: d.event_id,
        event_type: d.event_type,
        route: d.route,
        config,
        signing_secret: d.signing_secret,
        attempt: d.attempt,
        now_unix_ms: d.now_unix_ms,
    };
    A::run(&delivery).map(delivered).map_err(action_error)
}

fn delivered(d: Delivered) -> at::Delivered {
    at::Delivered {
        http_status: d.http_status,
        pause_ms: d.pause_ms,
    }
}

fn action_error(e: ActionError) -> at::ActionError {
    let retry = |reason, http_status, after_ms| at::Retry {
        failure: at::Failure {
            reason,
            http_status,
        },
        after_ms,
    };
    match e {
        ActionError::Retryable {
            reason,
            http_status,
            after_ms,
        } => at::ActionError::Retryable(retry(reason, http_status, after_ms)),
        ActionError::RateLimited {
            reason,
            http_status,
            after_ms,
        } => at::ActionError::RateLimited(retry(reason, http_status, after_ms)),
        ActionError::Permanent {
            reason,
            http_status,
        } => at::ActionError::Permanent(at::Failure {
            reason,
            http_status,
        }),
        ActionError::Gone {
            reason,
            http_status,
        } => at::ActionError::Gone(at::Failure {
            reason,
            http_status,
        }),
    }
}

/// Exports an [`Action`](crate::Action) implementation as the plugin's component exports.
/// Call it exactly once per plugin crate, with a type that implements `Action`. A crate exports
/// either a platform or an action, never both: each is its own component world.
#[macro_export]
macro_rules! export_action {
    ($action:ty) => {
        #[doc(hidden)]
        pub struct __HookgateActionExport;

        impl $crate::action_bindings::exports::hookgate::plugin::action::Guest
            for __HookgateActionExport
        {
            fn metadata() -> $crate::action_bindings::hookgate::plugin::action_types::ActionMetadata
            {
                $crate::action_export::metadata::<$action>(env!("CARGO_PKG_VERSION"))
            }
            fn check_config(config_json: String) -> Result<(), String> {
                $crate::action_export::check_config::<$action>(&config_json)
            }
            fn run(
                delivery: $crate::action_bindings::hookgate::plugin::action_types::Delivery,
            ) -> Result<
                $crate::action_bindings::hookgate::plugin::action_types::Delivered,
                $crate::action_bindings::hookgate::plugin::action_types::ActionError,
            > {
                $crate::action_export::run::<$action>(delivery)
            }
        }

        // Only wasm builds export the component ABI; native builds (unit tests) would fail to
        // link a cdylib with WIT-style symbol names.
        #[cfg(target_arch = "wasm32")]
        $crate::action_bindings::__export_action_bindings!(__HookgateActionExport with_types_in $crate::action_bindings);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::ActionMetadata;

    /// Echoes what it was handed, so the tests see the conversion on both sides.
    struct Echo;

    impl Action for Echo {
        fn metadata() -> ActionMetadata {
            ActionMetadata::new("echo", "test action")
        }
        fn check_config(config: &serde_json::Value) -> Result<(), String> {
            config["ok"]
                .as_bool()
                .filter(|ok| *ok)
                .map(|_| ())
                .ok_or_else(|| "ok must be true".into())
        }
        fn run(d: &Delivery) -> Result<Delivered, ActionError> {
            match d.config["answer"].as_str() {
                Some("rate-limited") => Err(ActionError::rate_limited(d.event_id.clone())
                    .with_status(429)
                    .with_after_ms(Some(d.now_unix_ms))),
                Some("gone") => Err(ActionError::gone("gone").with_status(410)),
                _ => Ok(Delivered::status(200 + d.attempt as u16)),
            }
        }
    }

    // Exercise the macro natively too, so a mismatch with the generated trait fails here.
    crate::export_action!(Echo);

    fn delivery(config_json: &str) -> at::Delivery {
        at::Delivery {
            event_json: b"{}".to_vec(),
            event_id: "evt_1".into(),
            event_type: "payment.completed".into(),
            route: "r".into(),
            config_json: config_json.into(),
            signing_secret: None,
            attempt: 2,
            now_unix_ms: 1234,
        }
    }

    #[test]
    fn metadata_carries_crate_and_wit_versions() {
        let m = metadata::<Echo>("9.9.9");
        assert_eq!(
            (m.name.as_str(), m.version.as_str(), m.wit_version.as_str()),
            ("echo", "9.9.9", crate::ACTION_WIT_VERSION)
        );
    }

    #[test]
    fn check_config_parses_then_asks_the_plugin() {
        assert_eq!(check_config::<Echo>(r#"{"ok": true}"#), Ok(()));
        assert_eq!(
            check_config::<Echo>(r#"{"ok": false}"#),
            Err("ok must be true".into())
        );
        assert!(
            check_config::<Echo>("{nope")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn run_converts_results_both_ways() {
        assert_eq!(run::<Echo>(delivery("{}")).unwrap().http_status, Some(202));
        match run::<Echo>(delivery(r#"{"answer":"rate-limited"}"#)) {
            Err(at::ActionError::RateLimited(r)) => {
                assert_eq!(r.failure.reason, "evt_1");
                assert_eq!(r.failure.http_status, Some(429));
                assert_eq!(r.after_ms, Some(1234));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            run::<Echo>(delivery(r#"{"answer":"gone"}"#)),
            Err(at::ActionError::Gone(at::Failure {
                http_status: Some(410),
                ..
            }))
        ));
    }

    #[test]
    fn unparsable_config_is_permanent_without_calling_the_plugin() {
        match run::<Echo>(delivery("not json")) {
            Err(at::ActionError::Permanent(f)) => assert!(f.reason.contains("not valid JSON")),
            other => panic!("{other:?}"),
        }
    }
}
