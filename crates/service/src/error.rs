//! The kinds of failure a caller of the service layer must tell apart: the admin API answers each with its own
//! status and Graph error code, the command line with its message.

use roster_directory::port::DirectoryError;

/// What kind of failure an operation met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object does not exist (or the caller may not see it).
    NotFound,
    /// The request is wrong: a bad value, a missing field.
    Invalid,
    /// The request contradicts the stored state: a name taken, a member already there.
    Conflict,
    /// The caller's role does not allow it.
    Forbidden,
    /// A cycle holds the job: try again later.
    Busy,
    /// Anything else: the store or the network failed.
    Internal,
}

/// A failure of a known kind, with a message that says what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    /// The kind.
    pub kind: ErrorKind,
    /// What happened and what to do.
    pub message: String,
}

impl ServiceError {
    /// A failure of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ServiceError {
        ServiceError { kind, message: message.into() }
    }

    /// Not found.
    pub fn not_found(message: impl Into<String>) -> anyhow::Error {
        ServiceError::new(ErrorKind::NotFound, message).into()
    }

    /// A bad request.
    pub fn invalid(message: impl Into<String>) -> anyhow::Error {
        ServiceError::new(ErrorKind::Invalid, message).into()
    }

    /// A conflict.
    pub fn conflict(message: impl Into<String>) -> anyhow::Error {
        ServiceError::new(ErrorKind::Conflict, message).into()
    }

    /// Not allowed for this caller.
    pub fn forbidden(message: impl Into<String>) -> anyhow::Error {
        ServiceError::new(ErrorKind::Forbidden, message).into()
    }

    /// The kind of an error chain: the first [`ServiceError`] or `DirectoryError` in it, else `Internal`.
    pub fn kind_of(error: &anyhow::Error) -> ErrorKind {
        for cause in error.chain() {
            if let Some(service) = cause.downcast_ref::<ServiceError>() {
                return service.kind;
            }
            if let Some(directory) = cause.downcast_ref::<DirectoryError>() {
                return match directory {
                    DirectoryError::NotFound { .. } => ErrorKind::NotFound,
                    DirectoryError::Conflict(_) => ErrorKind::Conflict,
                    DirectoryError::Invalid(_) => ErrorKind::Invalid,
                    DirectoryError::Backend(_) => ErrorKind::Internal,
                };
            }
            if cause.downcast_ref::<roster_directory::model::ObjectIdError>().is_some() {
                return ErrorKind::Invalid;
            }
        }
        ErrorKind::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_kind_is_found_anywhere_in_the_chain() {
        let error = Err::<(), _>(ServiceError::not_found("no user x")).context("while assigning").unwrap_err();
        assert_eq!(ServiceError::kind_of(&error), ErrorKind::NotFound);
        let directory: anyhow::Error = DirectoryError::Conflict("taken".to_owned()).into();
        assert_eq!(ServiceError::kind_of(&directory), ErrorKind::Conflict);
        assert_eq!(ServiceError::kind_of(&anyhow::anyhow!("disk full")), ErrorKind::Internal);
    }
}
