//! The attachment endpoint's HTTP side (ATT-POST, ATT-DELETE): the caller's right to write the
//! record is checked before the upload is read, then the file is stored and the record
//! updated in one write job; files left unused are removed after the commit.

use crate::error::ApiError;
use crate::http::dispatch;
use crate::http::message::{ApiRequest, ApiResponse};
use crate::http::state::AppState;
use crate::plugins::attachments::{AttachmentConfig, parse_upload};
use crate::resource::attach::AttachmentOp;
use crate::resource::{self, Call};

/// Runs an attachment call prepared by the dispatcher.
pub async fn run(state: &AppState, request: &ApiRequest, mut call: Call) -> Result<ApiResponse, ApiError> {
    if matches!(call.attachment, Some(AttachmentOp::Authorize)) {
        // Nobody without write access gets to upload (or fill the disk).
        let (check, settings) = (call.clone(), state.settings.clone());
        let authorized = state.store.read(move |tx| resource::execute(tx, &settings, &check)).await;
        match authorized {
            Ok(_) | Err(ApiError::NeedsWrite) => {}
            Err(err) => return Err(err),
        }
        let (bucket, collection) = match call.place.ancestors.as_slice() {
            [bucket, collection, ..] => (bucket.clone(), collection.clone()),
            _ => return Err(ApiError::Internal("attachment outside a collection".into())),
        };
        let config = AttachmentConfig::from_settings(&state.settings).for_collection(&bucket, &collection);
        let upload = parse_upload(request.header("content-type"), request.body.clone(), &config).await?;
        call.attachment = Some(AttachmentOp::Upload(Box::new(upload)));
    }
    dispatch::run_call(state, call).await
}
