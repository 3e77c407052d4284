//! Templates in action configs and `when` conditions on routes (Jinja syntax, rendered by
//! minijinja), as the contract's "Actions: common rules" describe them.
//!
//! Every string of a route's `config` may be a template, rendered by the host for each
//! delivery with `event` (the normalized event, exactly as `forward` sends it) and `route`
//! (its name), so first- and third-party actions get the same templates without a line of
//! their own. A string that is exactly one `{{ expr }}` keeps the value's JSON type. Missing
//! fields are errors unless guarded with `| default(…)`. A render is bounded: a template is
//! operator input, but the payload it walks is whatever a sender posted.
//!
//! Everything here is compiled when the config loads (a template that does not parse is a
//! config error) and only evaluated on the delivery and ingest paths.

mod condition;
mod engine;
mod filters;

pub use condition::Condition;
pub use engine::{
    MAX_FUEL, MAX_OUTPUT_BYTES, RenderError, TemplateError, TemplateRef, Templates,
    TemplatesBuilder, context,
};
