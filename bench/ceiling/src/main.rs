//! `kintoun-ceiling`, the ceiling row of `make bench`: a trivial axum handler serving a fixed
//! JSON body the size of a record GET answer on `GET /record.json`, so the bench can show how far
//! each scenario is from what axum and tokio can serve on the same machine with the same tool
//! (wrk). It binds
//! 127.0.0.1:0 (or the address given as the first argument) and prints
//! `listening on http://ADDR/`, which bench/bench.py reads.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// About what Kintoun answers for `GET .../records/r000042` in the bench: data and permissions.
const RECORD: &str = concat!(
    r#"{"data":{"n":42,"title":"record 42","tags":["a","b"],"done":true,"id":"r000042","#,
    r#""last_modified":1796286658259},"permissions":{"write":["basicauth:"#,
    r#"b3c8f4b678a10c3cea77a11b512df0167f95229fd04e0aa43bb30615febaf7a1"]}}"#
);

async fn record() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], RECORD)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    let app = Router::new().route("/record.json", get(record));
    axum::serve(listener, app).await
}
