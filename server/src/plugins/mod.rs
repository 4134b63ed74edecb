//! Kinto's built-in plugins, each a module: accounts, the admin UI, the personal bucket, history,
//! the permissions endpoint, attachments, flush, and the desktop owner account.

pub mod accounts;
pub mod admin;
pub mod apps;
pub mod attachments;
pub mod default_bucket;
pub mod history;
pub mod owner;
pub mod permissions;
