//! Reading a Kinto `.ini` file (Python configparser syntax, via the `configparser` crate):
//! `[app:main]` holds the settings (`kinto.` prefix optional), `[server:main]` the host and
//! port; logging sections are reported as ignored.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use serde_json::Value;

/// What a Kinto ini file says, in file order.
#[derive(Debug, Default)]
pub struct ParsedIni {
    pub settings: Vec<(String, String)>,
    pub bind: Option<SocketAddr>,
    pub ignored_sections: Vec<String>,
}

/// Whether a config file is a Kinto ini (by extension, or by its `[app:main]` section).
pub fn looks_like_ini(path: &Path, text: &str) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("ini") | Some("cfg") => true,
        Some("toml") => false,
        _ => text.lines().any(|line| line.trim() == "[app:main]"),
    }
}

/// Parses the file; multi-line values are joined with newlines (Kinto splits them on
/// whitespace where it expects lists).
pub fn parse(text: &str) -> Result<ParsedIni, String> {
    let mut ini = configparser::ini::Ini::new_cs();
    ini.set_multiline(true);
    ini.set_default_section("DEFAULT");
    let map = ini.read(text.to_owned())?;
    let mut parsed = ParsedIni::default();
    for (section, entries) in map {
        match section.as_str() {
            "app:main" => {
                for (key, value) in entries {
                    let value = value.unwrap_or_default();
                    if key == "use" {
                        continue;
                    }
                    parsed.settings.push((key, value));
                }
            }
            "server:main" => {
                let host = entries.get("host").cloned().flatten().unwrap_or_else(|| "127.0.0.1".into());
                let port = entries.get("port").cloned().flatten().and_then(|p| p.trim().parse::<u16>().ok());
                if let (Ok(ip), Some(port)) = (host.trim().parse::<IpAddr>(), port) {
                    parsed.bind = Some(SocketAddr::new(ip, port));
                } else if let (Ok(ip), None) = (host.trim().parse::<IpAddr>(), port) {
                    parsed.bind = Some(SocketAddr::new(ip, 8888));
                }
            }
            "DEFAULT" if entries.is_empty() => {}
            other => parsed.ignored_sections.push(other.to_owned()),
        }
    }
    parsed.settings.sort();
    Ok(parsed)
}

/// An ini or environment value: JSON when it parses (`true`, `25`, `null`, `"x"`), else the
/// raw string.
pub fn parse_value(raw: &str) -> Value {
    let trimmed = raw.trim();
    serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF_INI: &str = "[server:main]\nuse = egg:waitress#main\nhost = 127.0.0.1\nport = %(http_port)s\n\n\
        [app:main]\nuse = egg:kinto\nkinto.includes = kinto.plugins.default_bucket\n                 kinto.plugins.accounts\n\
        kinto.batch_max_requests = 25\nmultiauth.policies = account basicauth\n\n[loggers]\nkeys = root\n";

    #[test]
    fn reads_app_settings_and_multiline_values() -> Result<(), String> {
        let parsed = parse(REF_INI)?;
        let includes = parsed.settings.iter().find(|(k, _)| k == "kinto.includes").map(|(_, v)| v.clone());
        let includes = includes.unwrap_or_default();
        assert!(includes.contains("default_bucket") && includes.contains("accounts"));
        assert!(parsed.ignored_sections.contains(&"loggers".to_owned()));
        // An uninterpolated port falls back to the default one.
        assert_eq!(parsed.bind.map(|b| b.port()), Some(8888));
        Ok(())
    }

    #[test]
    fn values_are_json_when_possible() {
        assert_eq!(parse_value("25"), Value::from(25));
        assert_eq!(parse_value("true"), Value::Bool(true));
        assert_eq!(parse_value("system.Everyone"), Value::String("system.Everyone".into()));
    }
}
