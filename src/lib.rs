//! respoke-client: a reconnecting, brokered-token Respoke client for the browser.
