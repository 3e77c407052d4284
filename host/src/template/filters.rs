//! hookgate's own filters, for what operators put in messages: money and dates.
//!
//! - `minor_to_major(currency)`: `1999 | minor_to_major("USD")` → `"19.99"`, exact (no float
//!   ever touches an amount), with ISO 4217's minor-unit exponent (`JPY` 0, `KWD` 3).
//! - `money(currency)`: `1999 | money("USD")` → `"$19.99"`, `123456 | money("EUR")` →
//!   `"€1,234.56"`; currencies without a well-known symbol: `"1,234.56 CHF"`.
//! - `date(format, tz)`: an RFC 3339 text (`occurred_at`) or Unix seconds, formatted with
//!   strftime directives (`"%d %b %Y"`; the default is `"%Y-%m-%d %H:%M:%S"`), in UTC or at
//!   a fixed offset (`tz = "+02:00"`).
//!
//! `tojson`, `default` and the rest of Jinja's builtins come with minijinja.

use chrono::{DateTime, FixedOffset, Utc};
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value};
use std::fmt::Write as _;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("minor_to_major", minor_to_major);
    env.add_filter("money", money);
    env.add_filter("date", date);
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// The number of minor-unit digits of an ISO 4217 currency (2 unless listed).
fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// An amount in minor units: an integer, or a string of digits (some platforms send those).
fn minor_units(value: &Value) -> Result<i128, Error> {
    if let Some(text) = value.as_str() {
        return text
            .trim()
            .parse::<i128>()
            .map_err(|_| invalid(format!("{text:?} is not an amount in minor units")));
    }
    i128::try_from(value.clone()).map_err(|_| {
        invalid(format!(
            "{value} is not an amount in minor units (an integer)"
        ))
    })
}

/// `(sign, whole, fraction digits)` of an amount at an exponent.
fn split(amount: i128, exponent: u32) -> (&'static str, u128, String) {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let scale = 10u128.pow(exponent);
    let fraction = if exponent == 0 {
        String::new()
    } else {
        format!("{:0width$}", abs % scale, width = exponent as usize)
    };
    (sign, abs / scale, fraction)
}

fn minor_to_major(value: Value, currency: Option<String>) -> Result<String, Error> {
    let exponent = exponent(currency.as_deref().unwrap_or("USD"));
    let (sign, whole, fraction) = split(minor_units(&value)?, exponent);
    Ok(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

fn money(value: Value, currency: String) -> Result<String, Error> {
    let code = currency.trim().to_ascii_uppercase();
    let (sign, whole, fraction) = split(minor_units(&value)?, exponent(&code));
    let mut grouped = String::new();
    let digits = whole.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = if fraction.is_empty() {
        grouped
    } else {
        format!("{grouped}.{fraction}")
    };
    let symbol = match code.as_str() {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        "INR" => Some("₹"),
        "KRW" => Some("₩"),
        _ => None,
    };
    Ok(match symbol {
        Some(symbol) => format!("{sign}{symbol}{number}"),
        None => format!("{sign}{number} {code}"),
    })
}

fn date(value: Value, format: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let tz: Option<String> = kwargs.get("tz")?;
    kwargs.assert_all_used()?;
    let utc: DateTime<Utc> = if let Some(text) = value.as_str() {
        DateTime::parse_from_rfc3339(text.trim())
            .map_err(|_| invalid(format!("{text:?} is not an RFC 3339 date")))?
            .with_timezone(&Utc)
    } else if let Ok(secs) = i64::try_from(value.clone()) {
        DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| invalid(format!("{secs} is out of range as Unix seconds")))?
    } else {
        return Err(invalid(format!(
            "{value} is not a date (an RFC 3339 string or Unix seconds)"
        )));
    };
    let offset = match tz.as_deref().map(str::trim) {
        None | Some("UTC" | "Z" | "utc") => FixedOffset::east_opt(0),
        Some(text) => parse_offset(text),
    }
    .ok_or_else(|| invalid("tz must be UTC or a fixed offset such as \"+02:00\""))?;
    let local = utc.with_timezone(&offset);
    let format = format.as_deref().unwrap_or("%Y-%m-%d %H:%M:%S");
    // Written through fmt::Write: an unknown directive is an error here rather than the
    // panic `to_string` would raise.
    let mut out = String::new();
    write!(out, "{}", local.format(format))
        .map_err(|_| invalid(format!("{format:?} is not a valid strftime format")))?;
    Ok(out)
}

/// `+HH:MM` / `-HH:MM` (or without the colon).
fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, String> {
        let mut env = Environment::new();
        register(&mut env);
        env.render_str(source, minijinja::context! { t => "2024-03-01T12:30:05Z" })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn minor_units_become_exact_major_units() {
        for (source, expected) in [
            ("{{ 1999 | minor_to_major }}", "19.99"),
            ("{{ 1999 | minor_to_major('usd') }}", "19.99"),
            ("{{ 5 | minor_to_major('EUR') }}", "0.05"),
            ("{{ -1999 | minor_to_major('EUR') }}", "-19.99"),
            ("{{ 1999 | minor_to_major('JPY') }}", "1999"),
            ("{{ 1999 | minor_to_major('KWD') }}", "1.999"),
            ("{{ '250000' | minor_to_major('INR') }}", "2500.00"),
            (
                "{{ 9007199254740993 | minor_to_major }}",
                "90071992547409.93",
            ),
        ] {
            assert_eq!(render(source).as_deref(), Ok(expected), "{source}");
        }
        assert!(render("{{ 19.99 | minor_to_major }}").is_err());
        assert!(render("{{ 'abc' | minor_to_major }}").is_err());
    }

    #[test]
    fn money_is_formatted_for_people() {
        for (source, expected) in [
            ("{{ 1999 | money('USD') }}", "$19.99"),
            ("{{ 123456789 | money('eur') }}", "€1,234,567.89"),
            ("{{ 100 | money('GBP') }}", "£1.00"),
            ("{{ 1500 | money('JPY') }}", "¥1,500"),
            ("{{ 123456 | money('CHF') }}", "1,234.56 CHF"),
            ("{{ -99 | money('USD') }}", "-$0.99"),
        ] {
            assert_eq!(render(source).as_deref(), Ok(expected), "{source}");
        }
    }

    #[test]
    fn dates_format_rfc3339_and_unix_seconds() {
        for (source, expected) in [
            ("{{ t | date }}", "2024-03-01 12:30:05"),
            ("{{ t | date('%d %b %Y') }}", "01 Mar 2024"),
            ("{{ t | date('%H:%M', tz='+02:00') }}", "14:30"),
            ("{{ t | date('%H:%M %z', tz='-0530') }}", "07:00 -0530"),
            ("{{ 0 | date('%Y-%m-%d') }}", "1970-01-01"),
            (
                "{{ '2024-03-01T12:30:05.123+01:00' | date }}",
                "2024-03-01 11:30:05",
            ),
        ] {
            assert_eq!(render(source).as_deref(), Ok(expected), "{source}");
        }
        for bad in [
            "{{ 'yesterday' | date }}",
            "{{ t | date('%Q') }}",
            "{{ t | date(tz='Mars/Olympus') }}",
            "{{ t | date(zone='UTC') }}",
        ] {
            assert!(render(bad).is_err(), "{bad}");
        }
    }
}
