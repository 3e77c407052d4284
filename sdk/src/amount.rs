//! Money in integer minor units. Platforms that send decimal strings (Shopify's `"19.99"`) are
//! parsed exactly, digit by digit: never through a float.

/// Number of minor-unit digits of an ISO 4217 currency (2 unless listed).
pub fn currency_exponent(currency: &str) -> u32 {
    const ZERO: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let upper = currency.to_ascii_uppercase();
    if ZERO.contains(&upper.as_str()) {
        0
    } else if THREE.contains(&upper.as_str()) {
        3
    } else {
        2
    }
}

/// Converts a decimal string (`"19.99"`, `"-5"`, `"1000.5"`) into minor units of `currency`.
/// More fractional digits than the currency has are accepted only when they are zeros
/// (`"10.500"` in USD is 1050; `"10.505"` is an error, never rounded).
pub fn decimal_to_minor_units(text: &str, currency: &str) -> Result<i64, String> {
    let exp = currency_exponent(currency) as usize;
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || (t.contains('.') && frac.is_empty())
    {
        return Err(format!("not a decimal amount: {text:?}"));
    }
    let (kept, extra) = frac.split_at(frac.len().min(exp));
    if extra.bytes().any(|b| b != b'0') {
        return Err(format!(
            "amount {text:?} has more precision than {currency}"
        ));
    }
    let mut value: i64 = 0;
    for b in int
        .bytes()
        .chain(kept.bytes())
        .chain(std::iter::repeat_n(b'0', exp - kept.len()))
    {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| format!("amount {text:?} overflows"))?;
    }
    Ok(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimal_parsing() {
        assert_eq!(decimal_to_minor_units("19.99", "USD"), Ok(1999));
        assert_eq!(decimal_to_minor_units("0.10", "usd"), Ok(10));
        assert_eq!(decimal_to_minor_units("0.1", "EUR"), Ok(10));
        assert_eq!(decimal_to_minor_units("10", "EUR"), Ok(1000));
        assert_eq!(decimal_to_minor_units("10.500", "USD"), Ok(1050));
        assert_eq!(decimal_to_minor_units("-5.25", "USD"), Ok(-525));
        assert_eq!(decimal_to_minor_units("1500", "JPY"), Ok(1500));
        assert_eq!(decimal_to_minor_units("1.234", "KWD"), Ok(1234));
        // 0.1 + 0.2 style float artefacts cannot happen: 1.15 is 115, not 114.
        assert_eq!(decimal_to_minor_units("1.15", "USD"), Ok(115));
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        for bad in [
            "",
            "abc",
            "1.",
            ".5",
            "1.2.3",
            "1e3",
            "10.505",
            "99999999999999999999",
        ] {
            assert!(decimal_to_minor_units(bad, "USD").is_err(), "{bad}");
        }
        assert!(decimal_to_minor_units("1.5", "JPY").is_err());
    }
}
