//! Whether an attempt succeeded, and if not whether retrying can help: the contract's delivery
//! rules as one pure function of the response (or the transport error) and the host's `now`.
//! *When* to retry is the host's business (schedule, jitter, `Retry-After` cap); this module
//! only passes on what the destination asked for.
//!
//! | outcome | result |
//! | --- | --- |
//! | 2xx | delivered |
//! | 3xx | permanent: redirects are not followed |
//! | 408, 5xx | retryable, after `Retry-After` when given |
//! | 429 | rate limited, after `Retry-After` when given |
//! | 410 | gone: the host disables the route |
//! | other 4xx | permanent |
//! | other statuses (1xx, ≥ 600) | retryable: a broken answer is not a refusal |
//! | timeout, connection error | retryable |
//! | refused by the egress policy, invalid request | permanent |
//! | any other transport error | retryable |

use hookgate_sdk::prelude::*;

/// The longest body excerpt put into a failure reason, in characters.
pub const SNIPPET_CHARS: usize = 200;

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    match outcome {
        Ok(response) => classify_response(&response, now_unix_ms),
        Err(error) => Err(classify_error(error)),
    }
}

/// Classifies a response by its status.
pub fn classify_response(
    response: &HttpResponse,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let status = response.status;
    let after_ms = || {
        response
            .header("retry-after")
            .and_then(|v| retry_after_ms(v, now_unix_ms))
    };
    let reason = || match snippet(&response.body) {
        s if s.is_empty() => format!("HTTP {status}"),
        s => format!("HTTP {status}: {s}"),
    };
    let error = match status {
        200..=299 => return Ok(Delivered::status(status)),
        300..=399 => {
            let target = response
                .header("location")
                .map(|l| snippet(l.as_bytes()))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "an unspecified location".into());
            ActionError::permanent(format!("HTTP {status}: redirect to {target} not followed"))
        }
        408 => ActionError::retryable(reason()).with_after_ms(after_ms()),
        429 => ActionError::rate_limited(reason()).with_after_ms(after_ms()),
        410 => ActionError::gone(reason()),
        400..=499 => ActionError::permanent(reason()),
        500..=599 => ActionError::retryable(reason()).with_after_ms(after_ms()),
        _ => ActionError::retryable(format!("unexpected {}", reason())),
    };
    Err(error.with_status(status))
}

/// Classifies a request that got no response.
pub fn classify_error(error: HttpError) -> ActionError {
    match error {
        HttpError::Timeout(_) | HttpError::Connect(_) | HttpError::Other(_) => {
            ActionError::retryable(error.to_string())
        }
        // Display already says "refused by egress policy: …" and "invalid request: …".
        HttpError::Refused(_) | HttpError::InvalidRequest(_) => {
            ActionError::permanent(error.to_string())
        }
    }
}

/// A short, single-line excerpt of a body for a failure reason: lossy UTF-8, control
/// characters and runs of whitespace folded to one space (a reason is one log line, and a
/// hostile body must not forge others), at most [`SNIPPET_CHARS`] characters with `…` when cut.
pub fn snippet(body: &[u8]) -> String {
    // Decoding a little more than the excerpt needs bounds the work on a large body.
    let head = &body[..body.len().min(SNIPPET_CHARS * 4 + 4)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut chars = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if chars + needed > SNIPPET_CHARS - 1 {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        chars += needed;
    }
    if head.len() < body.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sun, 06 Nov 1994 08:49:37 GMT` in Unix milliseconds.
    const NOW_MS: u64 = 784_111_777_000;

    fn of(response: HttpResponse) -> Result<Delivered, ActionError> {
        classify(Ok(response), NOW_MS)
    }

    #[test]
    fn every_2xx_is_delivered_with_its_status() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(of(HttpResponse::new(status)), Ok(Delivered::status(status)));
        }
        // A body cut short does not undo the destination's answer.
        let mut partial = HttpResponse::new(200);
        partial.body_truncated = true;
        assert!(of(partial).is_ok());
    }

    #[test]
    fn redirects_are_permanent_and_name_the_target() {
        let r = HttpResponse::new(301).with_header("Location", "https://new.example.com/hooks");
        assert_eq!(
            of(r),
            Err(ActionError::Permanent {
                reason: "HTTP 301: redirect to https://new.example.com/hooks not followed".into(),
                http_status: Some(301),
            })
        );
        match of(HttpResponse::new(307)) {
            Err(ActionError::Permanent {
                reason,
                http_status: Some(307),
            }) => {
                assert!(reason.contains("not followed"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timeouts_and_server_errors_are_retryable_with_retry_after() {
        assert_eq!(
            of(HttpResponse::new(408)),
            Err(ActionError::Retryable {
                reason: "HTTP 408".into(),
                http_status: Some(408),
                after_ms: None,
            })
        );
        let r = HttpResponse::new(503)
            .with_header("Retry-After", "30")
            .with_body("upstream\r\n  down");
        assert_eq!(
            of(r),
            Err(ActionError::Retryable {
                reason: "HTTP 503: upstream down".into(),
                http_status: Some(503),
                after_ms: Some(30_000),
            })
        );
        let r = HttpResponse::new(500).with_header("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT");
        assert_eq!(of(r).unwrap_err().after_ms(), Some(10_000));
        let r = HttpResponse::new(502).with_header("retry-after", "garbage");
        assert_eq!(of(r).unwrap_err().after_ms(), None);
    }

    #[test]
    fn too_many_requests_is_rate_limited() {
        let r = HttpResponse::new(429).with_header("Retry-After", "2");
        assert_eq!(
            of(r),
            Err(ActionError::RateLimited {
                reason: "HTTP 429".into(),
                http_status: Some(429),
                after_ms: Some(2_000),
            })
        );
        assert!(matches!(
            of(HttpResponse::new(429)),
            Err(ActionError::RateLimited { after_ms: None, .. })
        ));
    }

    #[test]
    fn gone_disables_the_route() {
        assert_eq!(
            of(HttpResponse::new(410).with_body("endpoint deleted")),
            Err(ActionError::Gone {
                reason: "HTTP 410: endpoint deleted".into(),
                http_status: Some(410),
            })
        );
    }

    #[test]
    fn other_client_errors_are_permanent() {
        for status in [400, 401, 403, 404, 405, 409, 413, 422, 499] {
            let got = of(HttpResponse::new(status).with_header("retry-after", "5"));
            assert_eq!(
                got,
                Err(ActionError::Permanent {
                    reason: format!("HTTP {status}"),
                    http_status: Some(status),
                }),
            );
        }
    }

    #[test]
    fn nonsense_statuses_are_retried() {
        for status in [100, 101, 600, 999] {
            match of(HttpResponse::new(status)) {
                Err(ActionError::Retryable {
                    reason,
                    http_status,
                    ..
                }) => {
                    assert_eq!(http_status, Some(status));
                    assert!(reason.starts_with("unexpected HTTP"), "{reason}");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn transport_errors() {
        let err = |e| classify(Err(e), NOW_MS).unwrap_err();
        assert_eq!(
            err(HttpError::Timeout("connecting".into())),
            ActionError::retryable("timed out: connecting")
        );
        assert_eq!(
            err(HttpError::Connect("connection refused".into())),
            ActionError::retryable("connection failed: connection refused")
        );
        assert_eq!(
            err(HttpError::Other("host internal error".into())),
            ActionError::retryable("host internal error")
        );
        assert_eq!(
            err(HttpError::Refused("destination IP prohibited".into())),
            ActionError::permanent("refused by egress policy: destination IP prohibited")
        );
        assert_eq!(
            err(HttpError::InvalidRequest("URL has no host".into())),
            ActionError::permanent("invalid request: URL has no host")
        );
    }

    #[test]
    fn snippets_are_single_line_and_bounded() {
        assert_eq!(snippet(b""), "");
        assert_eq!(snippet(b"  a\n\tb\x1b[31mc  "), "a b [31mc");
        assert_eq!(snippet(&[0xff, b'o', b'k']), "\u{fffd}ok");
        let long = "x".repeat(1_000);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS);
        assert!(s.ends_with('…'));
        let exact = "y".repeat(SNIPPET_CHARS - 1);
        assert_eq!(snippet(exact.as_bytes()), exact);
        // Whitespace padding beyond the decoded head still marks the cut.
        let mut padded = b"short".to_vec();
        padded.extend(std::iter::repeat_n(b' ', 5_000));
        padded.push(b'z');
        assert_eq!(snippet(&padded), "short…");
    }
}
