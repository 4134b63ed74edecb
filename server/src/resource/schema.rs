//! JSON-schema validation (SCHEMA-*): being written.
