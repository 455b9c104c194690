//! Respoke wire protocol (placeholder).
