//! Attachments compatible with kinto-attachment (ATT-*): being written.
