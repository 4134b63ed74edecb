//! In-memory evaluation of filters and sorts: being written.
