//! The session table's bounds and expiry.

use super::*;

fn state(activation: Duration) -> RespokeState {
    let settings = Settings {
        activation,
        ..Settings::default()
    };
    RespokeState::new(Arc::new(Config::demo()), settings, Arc::default())
}

#[test]
fn tokens_are_single_use() {
    let s = state(Duration::from_secs(30));
    let minted = s.mint_token("A", "e", None, 60);
    assert!(s.exchange(&minted.token_id, None).is_ok());
    assert_eq!(
        s.exchange(&minted.token_id, None).unwrap_err(),
        ExchangeError::Used
    );
    assert_eq!(
        s.exchange("nope", None).unwrap_err(),
        ExchangeError::Unknown
    );
    let stats = s.stats.snapshot();
    assert_eq!(stats.exchanges_accepted, 1);
    assert_eq!(stats.exchanges_rejected_used, 1);
    assert_eq!(stats.exchanges_rejected_other, 1);
}

#[test]
fn a_token_of_another_app_is_refused_and_stays_unspent() {
    let s = state(Duration::from_secs(30));
    let minted = s.mint_token("A", "e", None, 60);
    assert_eq!(
        s.exchange(&minted.token_id, Some("B")).unwrap_err(),
        ExchangeError::WrongApp
    );
    let (_, session) = s.exchange(&minted.token_id, Some("a")).unwrap();
    assert_eq!(session.app_id, "A");
}

#[test]
fn sessions_are_bounded_and_expire_from_the_index() {
    let mut settings = Settings::default();
    settings.limits.max_sessions = 3;
    let s = RespokeState::new(Arc::new(Config::demo()), settings, Arc::default());
    for ttl in [0, 0, 3600] {
        let minted = s.mint_token("A", "e", None, ttl);
        s.exchange(&minted.token_id, None).unwrap();
    }
    // The two ttl-0 sessions expire and make room.
    for _ in 0..2 {
        let minted = s.mint_token("A", "e", None, 3600);
        s.exchange(&minted.token_id, None).unwrap();
    }
    assert_eq!(s.live_sessions(), 3);
    let minted = s.mint_token("A", "e", None, 3600);
    assert_eq!(
        s.exchange(&minted.token_id, None).unwrap_err(),
        ExchangeError::Full
    );
    assert!(s.exchange(&minted.token_id, None).is_err(), "still full");
    let sessions = lock(&s.sessions);
    assert_eq!(sessions.by_expiry.len(), sessions.by_token.len());
}

#[test]
fn pending_tokens_are_bounded() {
    let mut settings = Settings::default();
    settings.limits.max_pending_tokens = 10;
    let s = RespokeState::new(Arc::new(Config::demo()), settings, Arc::default());
    let first = s.mint_token("A", "e", None, 60);
    for _ in 0..20 {
        s.mint_token("A", "e", None, 60);
    }
    assert_eq!(lock(&s.tokens).records.len(), 10);
    assert_eq!(s.stats.snapshot().tokens_evicted, 11);
    assert_eq!(
        s.exchange(&first.token_id, None).unwrap_err(),
        ExchangeError::Unknown
    );
}

#[test]
fn tokens_expire_unexchanged() {
    let s = state(Duration::ZERO);
    let minted = s.mint_token("A", "e", None, 60);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        s.exchange(&minted.token_id, None).unwrap_err(),
        ExchangeError::Expired
    );
}

#[test]
fn handshakes_waiting_for_their_socket_are_bounded() {
    let mut settings = Settings::default();
    settings.limits.max_pending_sockets = 3;
    let s = RespokeState::new(Arc::new(Config::demo()), settings, Arc::default());
    let minted = s.mint_token("A", "e", None, 3600);
    let (app_token, session) = s.exchange(&minted.token_id, None).unwrap();
    let sids: Vec<String> = (0..3)
        .map(|_| s.begin_socket(&app_token, session.clone(), false).unwrap())
        .collect();
    assert_eq!(s.begin_socket(&app_token, session.clone(), false), None);
    assert_eq!(s.stats.snapshot().handshakes_refused, 1);
    // A socket that opens frees its place at once; taken sids at the front leave `order`.
    assert!(s.take_pending(&sids[0]).is_some());
    let fourth = s.begin_socket(&app_token, session.clone(), false);
    assert!(fourth.is_some());
    assert_eq!(lock(&s.pending).order.len(), 3);
    // Taken sids behind a waiting one are bounded too.
    for sid in &sids[2..] {
        assert!(s.take_pending(sid).is_some());
    }
    for _ in 0..20 {
        if let Some(sid) = s.begin_socket(&app_token, session.clone(), false) {
            assert!(s.take_pending(&sid).is_some());
        }
    }
    assert!(lock(&s.pending).order.len() <= 12);
}
