//! What happens to an event after it is stored: which routes it goes to (and, with the
//! delivery engine, the workers that deliver it).

pub mod router;
