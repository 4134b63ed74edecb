//! Operations on a list: GET/HEAD (with counts), POST (create, or return the existing object),
//! DELETE (OP-LIST-*), filtered to what the caller may access (PERM-LIST-FILTER) and paginated
//! newest first (REC-PAGE-*).

use serde_json::{Value, json};

use super::Engine;
use super::params::{self, PageToken};
use super::query::{self, ListParams};
use super::respond::{Verdict, with_timestamp};
use super::{body, ids, validate};
use crate::error::ApiError;
use crate::http::message::ApiResponse;
use crate::plugins::accounts;
use crate::resource::kind::{Kind, Place};
use crate::storage::{AccessFilter, ListQuery, RawObject, StoredObject};

/// `{"data":[...]}` from the objects' serialized JSON.
fn list_body<'a>(objects: impl Iterator<Item = &'a str>) -> bytes::Bytes {
    let mut body = Vec::with_capacity(4096);
    body.extend_from_slice(b"{\"data\":[");
    for (index, object) in objects.enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend_from_slice(object.as_bytes());
    }
    body.extend_from_slice(b"]}");
    bytes::Bytes::from(body)
}

impl Engine<'_> {
    /// `None` when the caller may `permission` the whole list; otherwise the filter to the
    /// objects it may access by their own ACL, or a refusal when it may access none and may
    /// not create either.
    pub(super) fn list_access(&mut self, permission: &str) -> Result<Option<AccessFilter>, ApiError> {
        if self.allowed_on_list(permission)? {
            return Ok(None);
        }
        if self.place().kind == Kind::Account && self.call.user_id.is_none() {
            return Err(ApiError::CannotReadAccounts);
        }
        let kind = self.place().kind;
        let filter = AccessFilter {
            uri_prefix: self.place().list_prefix(),
            permissions: if permission == "read" { kind.listing_permissions() } else { vec!["write"] },
            principals: self.principals.clone(),
        };
        if self.tx.any_accessible(&filter)? || self.allowed_to_create()? { Ok(Some(filter)) } else { Err(self.deny()) }
    }

    fn query(&self, params: &ListParams, access: Option<AccessFilter>, include_deleted: bool) -> ListQuery {
        let mut query = ListQuery {
            include_deleted,
            filters: params.filters.clone(),
            access,
            sort: params.sort.clone(),
            after: None,
            limit: None,
        };
        if let Some(token) = &params.token {
            query.after = Some(token.position(&query.effective_sort()));
        }
        query
    }

    /// The absolute URL of the next page, keeping every query parameter.
    fn next_page(
        &mut self,
        params: &ListParams,
        query: &ListQuery,
        limit: usize,
        last: &StoredObject,
    ) -> Result<String, ApiError> {
        let offset = params.token.as_ref().map_or(0, |t| t.offset) + limit as u64;
        let token = PageToken::new(params::last_object(&query.effective_sort(), &last.data), offset);
        if self.call.method == http::Method::DELETE {
            let expires = crate::storage::sqlite::now_ms()
                + (self.settings.pagination_token_validity_seconds as i64).saturating_mul(1000);
            self.tx.issue_token(&token.nonce, expires)?;
        }
        Ok(params::next_page_url(&self.call.url, &self.call.query, limit, &token))
    }

    pub(super) fn get_list(&mut self) -> Result<ApiResponse, ApiError> {
        let access = self.list_access("read")?;
        let params = self.call.params.clone()?;
        let preconditions = self.call.preconditions.clone()?;
        let collection = self.parent_collection()?;
        self.check_ancestor_ids()?;
        let mut timestamp = self.list_timestamp()?;
        if let (Kind::Account, Some(_), Some(user)) = (self.place().kind, &access, self.call.user_id.as_deref()) {
            // Kinto keeps each account in a list of its own: a user's list is their account.
            if let Some(own) = user.strip_prefix("account:").map(str::to_owned) {
                if let Some(account) = self.live(&own)? {
                    timestamp = account.last_modified;
                }
            }
        }
        if let Verdict::NotModified = self.list_preconditions(&preconditions, timestamp, true)? {
            return Ok(self.not_modified(timestamp));
        }
        let parent = self.place().parent_uri();
        let kind = self.place().kind;
        let mut query = self.query(&params, access, params.filters_on_timestamps());
        // Kinto's history answers HEAD without counts.
        let mut response = if self.call.head && kind == Kind::History {
            ApiResponse::json_bytes(200, bytes::Bytes::new())
        } else if self.call.head {
            let total = self.tx.count(&parent, kind.name(), &query)?;
            ApiResponse::json_bytes(200, bytes::Bytes::new())
                .with_header("total-objects", total.to_string())
                .with_header("total-records", total.to_string())
        } else {
            let limit = params.page_size(self.settings);
            query.limit = Some(limit.saturating_add(1));
            let (body, last) = match &params.fields {
                // The stored JSON text is what Kinto's serializer writes: sent unchanged.
                None => {
                    let mut objects = self.tx.list_raw(&parent, kind.name(), &query)?;
                    let more = objects.len() > limit;
                    objects.truncate(limit);
                    let last = if more { objects.last().map(RawObject::parse).transpose()? } else { None };
                    (list_body(objects.iter().map(|o| o.json.as_str())), last)
                }
                Some(fields) => {
                    let mut objects = self.tx.list(&parent, kind.name(), &query)?;
                    let more = objects.len() > limit;
                    objects.truncate(limit);
                    let last = if more { objects.last().cloned() } else { None };
                    let data: Vec<String> =
                        objects.iter().map(|o| crate::json::to_string(&query::project(&o.data, fields))).collect();
                    (list_body(data.iter().map(String::as_str)), last)
                }
            };
            let next = match last {
                Some(last) => Some(self.next_page(&params, &query, limit, &last)?),
                None => None,
            };
            let mut response = ApiResponse::json_bytes(200, body);
            if let Some(next) = next {
                response.set_header("next-page", next);
            }
            response
        };
        if params.used_to {
            response.set_header(
                "alert",
                crate::json::to_string(&json!({
                    "code": "soft-eol",
                    "message": "_to is now deprecated, you should use _before instead",
                    "url": "https://kinto.readthedocs.io/en/2.4.0/api/resource.html#list-of-available-url-parameters"
                })),
            );
        }
        let response = with_timestamp(response, timestamp);
        Ok(self.cache_headers(response, collection.as_ref()))
    }

    pub(super) fn post_list(&mut self) -> Result<ApiResponse, ApiError> {
        let kind = self.place().kind;
        self.parent_collection()?;
        let given_id = self.call.body.data_id().map(str::to_owned);
        if let (Kind::Account, Some(id)) = (kind, &given_id) {
            accounts::check_creation(self.settings, &self.principals, self.call.user_id.as_deref(), id)?;
        }
        let existing = match &given_id {
            Some(id) => self.live(id)?,
            None => None,
        };
        match &existing {
            Some(object) => {
                let place = Place::object(kind, self.place().ancestors.clone(), object.id.clone());
                self.require(&place, kind.read_permission())?;
            }
            None if self.allowed_to_create()? => {}
            None => return Err(self.deny()),
        }
        let envelope = body::envelope(self.call.body.value()?, kind)?;
        let preconditions = self.call.preconditions.clone()?;
        self.check_ancestor_ids()?;
        let id = match envelope.data.as_ref().and_then(|d| d.get("id")) {
            Some(Value::String(id)) if ids::is_valid(kind, id) => id.clone(),
            Some(_) => return Err(ApiError::invalid_object_id()),
            None if kind == Kind::Account => return Err(accounts::missing_id()),
            None => ids::generate(kind),
        };

        if let Some(object) = &existing {
            self.object_preconditions(&preconditions, Some(object), false)?;
            let place = Place::object(kind, self.place().ancestors.clone(), object.id.clone());
            let acl = self.tx.acl(&place.uri())?;
            return Ok(self.object_response(200, object, &acl));
        }
        self.object_preconditions(&preconditions, None, false)?;
        let mut data = envelope.data.clone().unwrap_or_default();
        if envelope.data.is_some() {
            validate::default_members(kind, &mut data);
        }
        let (stored, acl) = self.save(&id, None, data, envelope.acl())?;
        Ok(self.object_response(201, &stored, &acl))
    }

    pub(super) fn delete_list(&mut self) -> Result<ApiResponse, ApiError> {
        let access = self.list_access("write")?;
        let params = self.call.params.clone()?;
        if let Some(token) = &params.token {
            if !self.tx.redeem_token(&token.nonce, crate::storage::sqlite::now_ms())? {
                return Err(ApiError::invalid(
                    crate::error::Location::Querystring,
                    None,
                    "_token was already used or has expired.",
                ));
            }
        }
        let preconditions = self.call.preconditions.clone()?;
        self.parent_collection()?;
        self.check_ancestor_ids()?;
        let timestamp = self.list_timestamp()?;
        self.list_preconditions(&preconditions, timestamp, false)?;
        let limit = params.page_size(self.settings);
        let mut query = self.query(&params, access, false);
        query.limit = Some(limit.saturating_add(1));
        let parent = self.place().parent_uri();
        let mut objects = self.tx.list(&parent, self.place().kind.name(), &query)?;
        let more = objects.len() > limit;
        objects.truncate(limit);
        let next = match (more, objects.last()) {
            (true, Some(last)) => Some(self.next_page(&params, &query, limit, last)?),
            _ => None,
        };
        let mut tombstones = Vec::with_capacity(objects.len());
        for object in &objects {
            tombstones.push(self.remove(object, None)?);
        }
        let newest = tombstones.iter().map(|t| t.last_modified).max().unwrap_or(timestamp);
        let data: Vec<String> = tombstones.iter().map(|t| crate::json::to_string(&t.data)).collect();
        let mut response =
            with_timestamp(ApiResponse::json_bytes(200, list_body(data.iter().map(String::as_str))), newest);
        if let Some(next) = next {
            response.set_header("next-page", next);
        }
        Ok(response)
    }
}
