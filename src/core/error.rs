//! The one place the SPEC's error messages for core decisions live.

use std::fmt;

/// What JavaScript class an error becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    TypeError,
    Error,
}

/// Every error the core can report. Display is the exact message users see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// `ns("")`, `ns(undefined)`.
    NameRequired,
    /// `ns("clusterphone")`: the library's own channel.
    PrivateName,
    /// A send to a peer that died, disconnected or was never known.
    PeerGone,
    /// A message with a handle may not wait in a queue unless the caller forces it.
    HandleNotQueueable,
    /// The same, for a ready peer: the handle would wait behind its namespace's queued messages.
    HandleBehindQueue,
    /// A slot id that is not (or no longer) held by a queued message.
    UnknownSlot,
    /// A clock id the core never handed out.
    UnknownClock,
    /// A namespace id the registry never handed out.
    UnknownNamespaceId,
    /// A deadline that is not a number.
    BadDeadline,
    /// The registry holds as many namespaces as ids can name.
    TooManyNamespaces,
}

impl CoreError {
    /// The stable `code` the JavaScript error carries.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::NameRequired => "ERR_CLUSTERPHONE_INVALID_ARG",
            CoreError::PrivateName => "ERR_CLUSTERPHONE_PRIVATE_NAMESPACE",
            CoreError::PeerGone => "ERR_CLUSTERPHONE_WORKER_DEAD",
            CoreError::HandleNotQueueable | CoreError::HandleBehindQueue => {
                "ERR_CLUSTERPHONE_HANDLE_NOT_QUEUEABLE"
            }
            CoreError::TooManyNamespaces => "ERR_CLUSTERPHONE_TOO_MANY_NAMESPACES",
            CoreError::UnknownSlot
            | CoreError::UnknownClock
            | CoreError::UnknownNamespaceId
            | CoreError::BadDeadline => "ERR_CLUSTERPHONE_INTERNAL",
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            CoreError::NameRequired
            | CoreError::HandleNotQueueable
            | CoreError::HandleBehindQueue => ErrorClass::TypeError,
            _ => ErrorClass::Error,
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CoreError::NameRequired => "Name is required for namespaced messaging.",
            CoreError::PrivateName => "The 'clusterphone' namespace name is private. Sorry.",
            CoreError::PeerGone => "Worker is dead. Can't send message to it.",
            CoreError::HandleNotQueueable => {
                "You tried to send an FD to a worker that isn't online yet. Whilst ordinarily \
                 I'd be happy to queue messages for you, deferring sending a descriptor could \
                 cause strange behavior in your application. Pass forceQueueHandle = true to \
                 queue it anyway."
            }
            CoreError::HandleBehindQueue => {
                "You tried to send an FD to a worker that has not created this namespace yet: \
                 it is online, but messages sent to it in this namespace are still queued, and \
                 a descriptor may not overtake them. Pass forceQueueHandle = true to queue it \
                 behind them."
            }
            CoreError::UnknownSlot => "Internal error: unknown message slot.",
            CoreError::UnknownClock => "Internal error: unknown clock.",
            CoreError::UnknownNamespaceId => "Internal error: unknown namespace id.",
            CoreError::BadDeadline => "Internal error: the deadline is not a number.",
            CoreError::TooManyNamespaces => "Too many namespaces: at most 65534 can exist.",
        })
    }
}

impl std::error::Error for CoreError {}
