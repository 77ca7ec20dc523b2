//! Pages of the directory's users and groups, read on the server in id order with a keyset cursor (the id of the
//! last object read, as the admin API's `$skiptoken`), and filtered by a search as they are read. A search reads
//! at most [`SCAN_LIMIT`] objects a page, as the admin API's filters do: a rare match in a large directory answers
//! a short page with a Next link instead of reading the whole directory at once.

use std::future::Future;

use roster_directory::port::{DirectoryError, DirectoryStore};
use roster_directory::{Group, ObjectId, User};

/// Objects on a page.
pub const PAGE_SIZE: usize = 50;
/// Objects read for one page at most.
pub const SCAN_LIMIT: usize = 5_000;
/// Objects read at a time while searching.
const BATCH: usize = 500;

/// A directory collection kept in id order: users or groups.
pub trait Listed: Sized + Send {
    /// The object's id, the collection's order.
    fn key(&self) -> &ObjectId;

    /// Up to `limit` objects with ids greater than `after`.
    fn fetch<'a>(
        store: &'a dyn DirectoryStore,
        after: Option<&'a ObjectId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Self>, DirectoryError>> + Send + 'a;
}

impl Listed for User {
    fn key(&self) -> &ObjectId {
        self.id()
    }

    fn fetch<'a>(
        store: &'a dyn DirectoryStore,
        after: Option<&'a ObjectId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Self>, DirectoryError>> + Send + 'a {
        store.users_after(after, limit)
    }
}

impl Listed for Group {
    fn key(&self) -> &ObjectId {
        self.id()
    }

    fn fetch<'a>(
        store: &'a dyn DirectoryStore,
        after: Option<&'a ObjectId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Self>, DirectoryError>> + Send + 'a {
        store.groups_after(after, limit)
    }
}

/// One page of a collection.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The objects kept, in id order.
    pub items: Vec<T>,
    /// The cursor of the next page (the id of the last object read), if any object may follow.
    pub next: Option<ObjectId>,
    /// Whether the page stopped at [`SCAN_LIMIT`] objects read before it filled: more matches may follow.
    pub cut: bool,
}

/// Reads the page after `after`: objects in id order that `keep` keeps, until [`PAGE_SIZE`] are kept or
/// [`SCAN_LIMIT`] were read; `searching` reads in larger batches (most objects read are then not kept).
pub async fn page<T: Listed>(
    store: &dyn DirectoryStore,
    mut after: Option<ObjectId>,
    searching: bool,
    mut keep: impl FnMut(&T) -> bool + Send,
) -> Result<Page<T>, DirectoryError> {
    // One object more than a page: when it is there, there is a next page without another read.
    let batch_size = if searching { BATCH } else { PAGE_SIZE + 1 };
    let (mut items, mut read) = (Vec::new(), 0);
    loop {
        let batch = T::fetch(store, after.as_ref(), batch_size).await?;
        let full = batch.len() == batch_size;
        for object in batch {
            if items.len() == PAGE_SIZE {
                return Ok(Page { items, next: after, cut: false });
            }
            if read == SCAN_LIMIT {
                return Ok(Page { items, next: after, cut: true });
            }
            read += 1;
            after = Some(object.key().clone());
            if keep(&object) {
                items.push(object);
            }
        }
        if !full {
            return Ok(Page { items, next: None, cut: false });
        }
    }
}

/// Whether `value` begins with `prefix` (already lower case), in any case.
pub fn starts_with(value: Option<&str>, prefix: &str) -> bool {
    value.is_some_and(|value| value.to_lowercase().starts_with(prefix))
}

/// The query string of a list page: the search and the cursor (each left out when empty).
pub fn link(base: &str, search: &str, after: Option<&ObjectId>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !search.is_empty() {
        query.append_pair("search", search);
    }
    if let Some(after) = after {
        query.append_pair("after", after.as_str());
    }
    let query = query.finish();
    if query.is_empty() { base.to_owned() } else { format!("{base}?{query}") }
}

/// The cursor of a page's query, or a 400 that says to follow the links as given.
pub fn cursor(after: Option<&str>) -> Result<Option<ObjectId>, crate::error::PortalError> {
    after
        .map(str::trim)
        .filter(|after| !after.is_empty())
        .map(|after| {
            ObjectId::parse(after).map_err(|_| {
                crate::error::PortalError::bad_request("The page cursor is not valid: use the Next link as given.")
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_search_and_the_cursor() {
        let id = ObjectId::from_u128(7);
        assert_eq!(link("/users", "", None), "/users");
        assert_eq!(link("/users", "ada b", Some(&id)), format!("/users?search=ada+b&after={id}"));
        assert!(starts_with(Some("Ada Lovelace"), "ada"));
        assert!(!starts_with(Some("Lovelace, Ada"), "ada"));
        assert!(!starts_with(None, "ada"));
        assert!(cursor(Some("not an id")).is_err());
        assert_eq!(cursor(Some(" ")).ok(), Some(None));
    }
}
