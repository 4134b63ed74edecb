//! Kinto's built-in plugins, each a module: accounts, the personal bucket, history, the
//! permissions endpoint, attachments, flush, and the desktop owner account.

pub mod accounts;
pub mod apps;
pub mod attachments;
pub mod default_bucket;
pub mod history;
pub mod owner;
pub mod permissions;
