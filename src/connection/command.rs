//! What the machine asks the shell to do, and the shell's answers: HTTP requests, `getToken`
//! calls and WebSocket work, each tagged with an id so a stale answer is recognised.

use super::config::Credentials;

/// Identifies one HTTP request or `getToken` call. Answers carrying another id are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(pub u64);

/// Identifies one WebSocket. Callbacks carrying another id are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

/// HTTP verbs the core uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// The verb as fetch wants it.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// An HTTP request for the shell to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Verb.
    pub method: HttpMethod,
    /// Absolute URL, or relative to the page for the app's token URL.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<String>,
    /// fetch credentials mode.
    pub credentials: Credentials,
    /// Must outlive the page (`fetch` `keepalive`): the session teardown sent as the page
    /// unloads. Its answer is not needed.
    pub keepalive: bool,
}

/// What the shell must do, drained with [`Output::Command`](super::Output::Command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Perform an HTTP request and report with [`Input::Http`](super::Input::Http).
    Http {
        /// Tag for the answer.
        id: RequestId,
        /// What to send.
        request: HttpRequest,
    },
    /// Call the app's `getToken` and report with [`Input::Token`](super::Input::Token).
    GetToken {
        /// Tag for the answer.
        id: RequestId,
        /// 1-based attempt number, handed to `getToken`.
        attempt: u32,
    },
    /// Abort a request started earlier (its answer, if any, will be ignored anyway).
    Abort {
        /// The request.
        id: RequestId,
    },
    /// Open a WebSocket; report with the `Input::Socket*` inputs.
    OpenSocket {
        /// Tag for its callbacks.
        id: ConnId,
        /// ws:// or wss:// URL.
        url: String,
    },
    /// Send one text frame.
    Send {
        /// The socket.
        id: ConnId,
        /// The frame.
        text: String,
    },
    /// Close the socket and drop its listeners.
    CloseSocket {
        /// The socket.
        id: ConnId,
    },
}

/// An HTTP answer, as the shell read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The `Retry-After` header, if present and readable.
    pub retry_after: Option<String>,
    /// The body text.
    pub body: String,
    /// Wall-clock time (Unix ms) when the answer arrived; for HTTP-date `Retry-After`.
    pub wall_clock_ms: u64,
}

/// Why an HTTP request produced no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// fetch rejected: network down, refused, CORS, DNS.
    Network(String),
    /// The body was larger than the shell accepts.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// Why the app's `getToken` gave no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCallbackError {
    /// It said the user is not authorized (terminal).
    Unauthorized(String),
    /// It failed in some other way (retried).
    Failed(String),
}
