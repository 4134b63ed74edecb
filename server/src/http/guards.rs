//! Checks that apply to every request before routing to a handler: the Host header (DNS
//! rebinding protection when bound to loopback), end of service (ERR-ALERT-EOL) and the
//! operational headers added to every response (Backoff, Alert).

use serde_json::json;

use crate::error::{ApiError, Location};
use crate::settings::Settings;

/// Whether `host` (a Host header value, with or without port) names this machine's loopback.
fn is_loopback_name(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':')
            .map_or(host, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host })
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") || name == "::1" {
        return true;
    }
    name.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// When the server listens on loopback only, requests must name a loopback host (or one of
/// `allowed_hosts`): a web page on another name resolving to 127.0.0.1 is refused.
pub fn check_host(settings: &Settings, host: Option<&str>) -> Result<(), ApiError> {
    if !settings.bind.ip().is_loopback() || settings.allowed_hosts.iter().any(|h| h == "*") {
        return Ok(());
    }
    let Some(host) = host else { return Ok(()) };
    if is_loopback_name(host) {
        return Ok(());
    }
    let name = host.rsplit_once(':').map_or(host, |(n, _)| n);
    if settings.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(name)) {
        return Ok(());
    }
    Err(ApiError::invalid(Location::Header, Some("Host"), format!("{host} not allowed")))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn days_from_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146097 + doe - 719468)
}

fn today() -> i64 {
    let seconds =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    seconds.div_euclid(86400)
}

/// The end-of-service state: `Some(true)` once the `eos` date has passed.
pub fn end_of_service(settings: &Settings) -> Option<bool> {
    let days = days_from_date(settings.eos.as_deref()?)?;
    Some(today() > days)
}

/// The `Alert` header value for end of service (`soft-eol` before, `hard-eol` after).
pub fn eos_alert(settings: &Settings, hard: bool) -> String {
    crate::json::to_string(&json!({
        "code": if hard { "hard-eol" } else { "soft-eol" },
        "message": settings.eos_message,
        "url": settings.eos_url,
    }))
}

/// Whether this response gets a `Backoff` header (`backoff_percentage` samples responses).
pub fn backoff(settings: &Settings) -> Option<u64> {
    let seconds = settings.backoff?;
    match settings.backoff_percentage {
        Some(percentage) if rand::random_range(0..100u8) >= percentage => None,
        _ => Some(seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names() {
        for host in ["localhost", "localhost:8888", "127.0.0.1:1", "127.8.9.1", "[::1]:8888", "app.localhost"] {
            assert!(is_loopback_name(host), "{host}");
        }
        for host in ["evil.example.com", "evil.example.com:8888", "192.168.1.2:8888", "localhost.evil.com"] {
            assert!(!is_loopback_name(host), "{host}");
        }
    }

    #[test]
    fn host_check_honours_allowed_hosts() {
        let mut settings = Settings::default();
        assert!(check_host(&settings, Some("evil.example.com")).is_err());
        settings.allowed_hosts = vec!["vault.lan".into()];
        assert!(check_host(&settings, Some("vault.lan:8888")).is_ok());
        settings.bind = "0.0.0.0:8888".parse().expect("addr");
        assert!(check_host(&settings, Some("evil.example.com")).is_ok());
    }

    #[test]
    fn dates_count_days() {
        assert_eq!(days_from_date("1970-01-01"), Some(0));
        assert_eq!(days_from_date("2000-03-01"), Some(11017));
        assert_eq!(days_from_date("nope"), None);
    }
}
