//! Desktop notifications for household devices: a pairing waiting for the owner to compare
//! check strings brings the window forward on the Devices page with a notification showing the
//! string; a completed pairing and a revocation are announced too.

use std::time::Duration;

use kintoun::sharing::service::{Event, EventKind};
use tauri::{AppHandle, Manager};

use crate::app::AppState;

/// How often the device layer's events are read.
const POLL: Duration = Duration::from_secs(1);

/// What to tell the owner about an event, if anything: (title, body, open the Devices page).
pub fn announcement(event: &Event) -> Option<(String, String, bool)> {
    match &event.kind {
        EventKind::PairingConfirm { name, sas, .. } => Some((
            format!("Pair with {name}?"),
            format!("Check that {name} shows {sas}, then confirm in Kintoun on both devices."),
            true,
        )),
        EventKind::Paired { name, .. } => {
            Some((format!("Paired with {name}"), format!("{name} can now reach what you share with it."), false))
        }
        EventKind::Revoked { device, .. } => {
            Some(("Device revoked".to_owned(), format!("{device} can no longer reach this vault."), false))
        }
        _ => None,
    }
}

/// Follows the running server's device events for the life of the app (a restart on another
/// port starts a new series, which is read from its beginning).
pub fn watch(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut last = 0u64;
        loop {
            tokio::time::sleep(POLL).await;
            let Some(events) = app.state::<AppState>().control.device_events() else { continue };
            let all = events.since(0);
            if all.last().is_some_and(|newest| newest.serial < last) {
                last = 0;
            }
            for event in all.iter().filter(|event| event.serial > last) {
                if let Some((title, body, open)) = announcement(event) {
                    notify(&app, &title, &body, open);
                }
            }
            last = all.last().map_or(last, |newest| newest.serial.max(last));
        }
    });
}

fn notify(app: &AppHandle, title: &str, body: &str, open_devices: bool) {
    use tauri_plugin_notification::NotificationExt;
    tracing::info!(%title, %body, "device event");
    let (notifier, title, body) = (app.clone(), title.to_owned(), body.to_owned());
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(err) = notifier.notification().builder().title(title).body(body).show() {
            tracing::warn!(%err, "cannot show the device notification");
        }
    });
    if open_devices {
        let shown = app.clone();
        if let Err(err) = app.run_on_main_thread(move || crate::window::show_route(&shown, "#/devices")) {
            tracing::warn!(%err, "cannot show the window for a pairing");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind) -> Event {
        Event { serial: 1, at: 0, kind }
    }

    #[test]
    fn a_pairing_to_confirm_shows_the_check_string_and_opens_the_devices_page() {
        let confirm =
            event(EventKind::PairingConfirm { device: "ID".into(), name: "Kitchen".into(), sas: "123 456".into() });
        let (title, body, open) = announcement(&confirm).expect("announced");
        assert_eq!(title, "Pair with Kitchen?");
        assert!(body.contains("123 456"), "{body}");
        assert!(open);
        let started = event(EventKind::PairingStarted { code_expires_in_seconds: 60 });
        assert!(announcement(&started).is_none());
    }
}
