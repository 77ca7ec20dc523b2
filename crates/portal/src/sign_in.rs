//! Sign-in and sign-out. A directory user with an admin role signs in with a password; the session is always new
//! (a session id planted before sign-in is worth nothing), and the browser goes on to the page it asked for, if
//! that is a page of this site. Failed sign-ins are throttled per account and per address; the answer never says
//! whether the account exists.

use std::time::Instant;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use roster_service::sessions;
use roster_service::throttle::Key;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::PortalState;
use crate::error::{PortalError, render, render_with};
use crate::form::{Form, PublicForm};
use crate::session::{self, Chrome, is_local_path};

/// The sign-in page.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    chrome: Chrome,
    title: &'static str,
    next: String,
    upn: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

/// The sign-in page's query.
#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    /// Where to go after.
    next: Option<String>,
    /// `signed-out` after a sign-out.
    #[serde(default)]
    done: Option<String>,
}

/// `GET /sign-in`.
pub async fn page(Query(query): Query<SignInQuery>) -> Response {
    let notice = (query.done.as_deref() == Some("signed-out")).then_some("You are signed out.");
    render(&SignInPage {
        chrome: Chrome::anonymous(),
        title: "Sign in",
        next: query.next.filter(|next| is_local_path(next)).unwrap_or_else(|| "/".to_owned()),
        upn: String::new(),
        error: None,
        notice,
    })
}

/// `POST /sign-in`: `upn`, `password`, `next`.
pub async fn submit(State(state): State<PortalState>, form: PublicForm) -> Response {
    let upn = form.fields.get("upn").unwrap_or_default().to_owned();
    let password = form.fields.raw("password").to_owned();
    let next = form.fields.get("next").filter(|next| is_local_path(next)).unwrap_or("/").to_owned();
    let refuse = |status: StatusCode, error: String| {
        let page = SignInPage {
            chrome: Chrome::anonymous(),
            title: "Sign in",
            next: next.clone(),
            upn: upn.clone(),
            error: Some(error),
            notice: None,
        };
        render_with(status, &page)
    };
    if upn.is_empty() || password.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "Enter your user name and your password.".to_owned());
    }
    let mut keys = vec![Key::Account(upn.to_lowercase())];
    if let Some(address) = &form.address {
        keys.push(Key::Address(address.clone()));
    }
    if let Some(wait) = state.throttle.wait(&keys, Instant::now()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed sign-ins: try again in {minutes} minute{}.", if minutes == 1 { "" } else { "s" }),
        );
    }
    let now = OffsetDateTime::now_utc();
    match sessions::sign_in(&state.stores, &upn, &password, form.address.clone(), now, state.policy).await {
        Ok(Some(opened)) => {
            state.throttle.succeeded(&keys[0]);
            // A session the browser had before ends: sign-in always starts a new one.
            if let Some(old) = session::secret(&state, &form.headers) {
                let _ = sessions::sign_out(&state.stores, &old).await;
            }
            let mut response = Redirect::to(&next).into_response();
            response.headers_mut().insert(header::SET_COOKIE, session::set_cookie(&state, &opened.secret));
            response
        }
        Ok(None) => {
            state.throttle.failed(&keys, Instant::now());
            refuse(
                StatusCode::UNAUTHORIZED,
                "The user name or password is wrong, or the account may not sign in to the portal (it needs an \
                 admin role and must be enabled)."
                    .to_owned(),
            )
        }
        Err(error) => PortalError::from(error).into_response(),
    }
}

/// `POST /sign-out`.
pub async fn sign_out(State(state): State<PortalState>, headers: HeaderMap, _form: Form) -> Response {
    if let Some(secret) = session::secret(&state, &headers)
        && let Err(error) = sessions::sign_out(&state.stores, &secret).await
    {
        return PortalError::from(error).into_response();
    }
    let mut response = Redirect::to("/sign-in?done=signed-out").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::clear_cookie(&state));
    response
}
