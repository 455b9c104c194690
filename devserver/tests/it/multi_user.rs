//! The example app server with several users signed in at once in one browser (two tabs, two
//! users): one session cookie per user, tokens only for a user signed in in that browser.

use respoke_devserver::app::{session_cookie_name, SESSION_COOKIE_PREFIX};
use respoke_devserver::config::{Config, DEMO_USERS};
use serde_json::{json, Value};

use crate::common::*;

const SPOCK: &str = "spock@enterprise.com";
const KIRK: &str = "kirk@enterprise.com";
const UHURA: &str = "uhura@enterprise.com";

/// A browser's cookie jar for the app server: applies `Set-Cookie` (a new value replaces the
/// cookie of the same name, `Max-Age=0` removes it) and writes the `Cookie` header.
#[derive(Debug, Default, Clone)]
struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    fn apply(&mut self, reply: &reqwest::Response) {
        for set_cookie in reply.headers().get_all("set-cookie") {
            let set_cookie = set_cookie.to_str().unwrap();
            assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
            assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
            assert!(set_cookie.contains("Path=/"), "{set_cookie}");
            let (name, value) = set_cookie
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !set_cookie.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn names(&self) -> Vec<&str> {
        self.cookies.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn password(user: &str) -> &'static str {
    DEMO_USERS.iter().find(|(n, _)| *n == user).unwrap().1
}

impl Harness {
    async fn post_with(&self, jar: &mut Jar, path: &str, body: Value) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.app)).json(&body);
        if let Some(cookie) = jar.header() {
            request = request.header("Cookie", cookie);
        }
        let reply = request.send().await.unwrap();
        jar.apply(&reply);
        reply
    }

    async fn sign_in(&self, jar: &mut Jar, user: &str) -> Value {
        let reply = self
            .post_with(
                jar,
                "/api/login",
                json!({"username": user, "password": password(user)}),
            )
            .await;
        assert_eq!(reply.status(), 200);
        reply.json().await.unwrap()
    }

    async fn token_status(&self, jar: &Jar, body: Value) -> u16 {
        self.app_tokens(jar.header().as_deref(), body)
            .await
            .status()
            .as_u16()
    }

    async fn me(&self, jar: &Jar) -> (u16, Value) {
        let mut request = self.http.get(format!("{}/api/me", self.app));
        if let Some(cookie) = jar.header() {
            request = request.header("Cookie", cookie);
        }
        let reply = request.send().await.unwrap();
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(Value::Null))
    }
}

#[test]
fn cookie_names_are_per_user_and_stable() {
    let spock = session_cookie_name(SPOCK);
    assert!(spock.starts_with(SESSION_COOKIE_PREFIX));
    assert_eq!(spock.len(), SESSION_COOKIE_PREFIX.len() + 12);
    assert!(spock[SESSION_COOKIE_PREFIX.len()..]
        .chars()
        .all(|c| c.is_ascii_hexdigit()));
    assert_eq!(spock, session_cookie_name(SPOCK));
    assert_ne!(spock, session_cookie_name(KIRK));
    let mut names: Vec<String> = (1..=40)
        .map(|n| session_cookie_name(&format!("test{n}@example.com")))
        .chain(DEMO_USERS.iter().map(|(n, _)| session_cookie_name(n)))
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        43,
        "every built-in user has a cookie of their own"
    );
}

#[tokio::test]
async fn two_users_in_one_browser_each_get_only_their_own_tokens() {
    let h = start_with(fast_settings()).await;
    let mut jar = Jar::default();

    let first = h.sign_in(&mut jar, SPOCK).await;
    assert_eq!(first["endpointId"], SPOCK);
    assert_eq!(first["endpointIds"], json!([SPOCK]));
    let second = h.sign_in(&mut jar, KIRK).await;
    assert_eq!(second["endpointId"], KIRK);
    assert_eq!(second["endpointIds"], json!([SPOCK, KIRK]));
    // Signing in as kirk added a cookie; spock's is still there.
    assert_eq!(
        jar.names(),
        vec![session_cookie_name(SPOCK), session_cookie_name(KIRK)]
    );

    let (status, me) = h.me(&jar).await;
    assert_eq!(status, 200);
    assert_eq!(me["endpointIds"], json!([SPOCK, KIRK]));
    assert_eq!(me["endpointId"], KIRK, "the most recent sign-in");

    // Each tab asks for its own user's token: both work, at the same time.
    assert_eq!(
        h.token_status(&jar, json!({"endpointId": SPOCK})).await,
        200
    );
    assert_eq!(h.token_status(&jar, json!({"endpointId": KIRK})).await, 200);
    // A user not signed in here: 403.
    assert_eq!(
        h.token_status(&jar, json!({"endpointId": UHURA})).await,
        403
    );
    // No endpointId: the most recently signed-in user.
    assert_eq!(h.token_status(&jar, json!({})).await, 200);
    assert_eq!(h.endpoint_stats(SPOCK).await["tokensIssued"], 1);
    assert_eq!(h.endpoint_stats(KIRK).await["tokensIssued"], 2);

    // Another browser (its own jar) with only kirk signed in cannot get spock's token.
    let mut other = Jar::default();
    h.sign_in(&mut other, KIRK).await;
    assert_eq!(
        h.token_status(&other, json!({"endpointId": SPOCK})).await,
        403
    );
    // ... and kirk's sign-in there left kirk's session in the first browser alone.
    assert_eq!(h.token_status(&jar, json!({"endpointId": KIRK})).await, 200);

    // Sign out spock only: his cookie is cleared, kirk stays signed in.
    let spock_cookie = jar.value(&session_cookie_name(SPOCK)).unwrap().to_owned();
    let reply = h
        .post_with(&mut jar, "/api/logout", json!({"endpointId": SPOCK}))
        .await;
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers().get_all("set-cookie").iter().count(),
        1,
        "only spock's cookie is cleared"
    );
    assert_eq!(
        reply.json::<Value>().await.unwrap()["endpointIds"],
        json!([KIRK])
    );
    assert_eq!(jar.names(), vec![session_cookie_name(KIRK)]);
    assert_eq!(
        h.token_status(&jar, json!({"endpointId": SPOCK})).await,
        403
    );
    assert_eq!(h.token_status(&jar, json!({"endpointId": KIRK})).await, 200);
    let (status, me) = h.me(&jar).await;
    assert_eq!((status, &me["endpointIds"]), (200, &json!([KIRK])));
    // The session ended server-side: replaying spock's old cookie does not bring him back.
    let mut replay = jar.clone();
    replay
        .cookies
        .push((session_cookie_name(SPOCK), spock_cookie));
    assert_eq!(
        h.token_status(&replay, json!({"endpointId": SPOCK})).await,
        403
    );

    // Signing out a user who is not signed in changes nothing.
    let reply = h
        .post_with(&mut jar, "/api/logout", json!({"endpointId": UHURA}))
        .await;
    assert_eq!(reply.status(), 200);
    assert_eq!(jar.names(), vec![session_cookie_name(KIRK)]);

    // Sign out everyone: nobody is signed in, token requests answer 401.
    let reply = h.post_with(&mut jar, "/api/logout", json!({})).await;
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.json::<Value>().await.unwrap()["endpointIds"],
        json!([])
    );
    assert!(jar.names().is_empty());
    assert_eq!(h.token_status(&jar, json!({"endpointId": KIRK})).await, 401);
    assert_eq!(h.me(&jar).await.0, 401);
    // The other browser was not affected.
    assert_eq!(
        h.token_status(&other, json!({"endpointId": KIRK})).await,
        200
    );
}

#[tokio::test]
async fn logout_without_a_body_signs_out_everyone_in_that_browser() {
    let h = start_with(fast_settings()).await;
    let mut jar = Jar::default();
    h.sign_in(&mut jar, SPOCK).await;
    h.sign_in(&mut jar, KIRK).await;
    let sent = jar.clone();
    let reply = h
        .http
        .post(format!("{}/api/logout", h.app))
        .header("Cookie", jar.header().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers().get_all("set-cookie").iter().count(), 2);
    jar.apply(&reply);
    assert!(jar.names().is_empty());
    // Ended server-side too: the cookies the browser sent before no longer work.
    assert_eq!(
        h.token_status(&sent, json!({"endpointId": SPOCK})).await,
        401
    );
    assert_eq!(
        h.token_status(&sent, json!({"endpointId": KIRK})).await,
        401
    );
}

#[tokio::test]
async fn signing_in_again_replaces_that_users_session_only() {
    let h = start_with(fast_settings()).await;
    let mut jar = Jar::default();
    h.sign_in(&mut jar, SPOCK).await;
    h.sign_in(&mut jar, KIRK).await;
    let before = jar.clone();
    h.sign_in(&mut jar, SPOCK).await;
    assert_eq!(jar.cookies.len(), 2);
    let name = session_cookie_name(SPOCK);
    assert_ne!(jar.value(&name), before.value(&name), "a new session id");
    assert_eq!(
        jar.value(&session_cookie_name(KIRK)),
        before.value(&session_cookie_name(KIRK))
    );
    // The previous session of spock in this browser ended; the new one works.
    assert_eq!(
        h.token_status(&before, json!({"endpointId": SPOCK})).await,
        403
    );
    assert_eq!(
        h.token_status(&jar, json!({"endpointId": SPOCK})).await,
        200
    );
    // Now spock is the most recent sign-in.
    let (_, me) = h.me(&jar).await;
    assert_eq!(me["endpointId"], SPOCK);
    assert_eq!(me["endpointIds"], json!([KIRK, SPOCK]));
}

#[tokio::test]
async fn a_session_is_honoured_only_under_its_own_users_cookie() {
    let h = start_with(fast_settings()).await;
    let mut jar = Jar::default();
    h.sign_in(&mut jar, SPOCK).await;
    let session_id = jar.value(&session_cookie_name(SPOCK)).unwrap().to_owned();
    // spock's session id moved into kirk's slot is not kirk's session, nor spock's.
    let moved = Jar {
        cookies: vec![(session_cookie_name(KIRK), session_id)],
    };
    assert_eq!(
        h.token_status(&moved, json!({"endpointId": KIRK})).await,
        401
    );
    assert_eq!(
        h.token_status(&moved, json!({"endpointId": SPOCK})).await,
        401
    );
    // The old single-cookie name means nothing any more.
    let old = h
        .app_tokens(Some("respoke_demo_session=whatever"), json!({}))
        .await;
    assert_eq!(old.status(), 401);
}

#[tokio::test]
async fn token_request_counters_with_several_users() {
    let h = start_with(fast_settings()).await;
    let mut jar = Jar::default();
    h.sign_in(&mut jar, SPOCK).await;
    h.sign_in(&mut jar, KIRK).await;
    assert_eq!(
        h.token_status(&jar, json!({"endpointId": SPOCK})).await,
        200
    );
    assert_eq!(h.token_status(&jar, json!({})).await, 200);
    // uhura is not signed in here: counted for uhura and for kirk (the browser's most recent
    // sign-in, who asked), once in the totals.
    assert_eq!(
        h.token_status(&jar, json!({"endpointId": UHURA})).await,
        403
    );
    h.post_with(&mut jar, "/api/logout", json!({})).await;
    assert_eq!(
        h.token_status(&jar, json!({"endpointId": SPOCK})).await,
        401
    );

    let spock = h.endpoint_stats(SPOCK).await;
    assert_eq!(
        (
            &spock["appTokenRequests"],
            &spock["appTokenRequestsUnauthorized"]
        ),
        (&json!(2), &json!(1))
    );
    let kirk = h.endpoint_stats(KIRK).await;
    assert_eq!(
        (
            &kirk["appTokenRequests"],
            &kirk["appTokenRequestsUnauthorized"]
        ),
        (&json!(2), &json!(1))
    );
    let uhura = h.endpoint_stats(UHURA).await;
    assert_eq!(
        (
            &uhura["appTokenRequests"],
            &uhura["appTokenRequestsUnauthorized"]
        ),
        (&json!(1), &json!(1))
    );
    let global = h.stats().await;
    assert_eq!(global["appTokenRequests"], 4);
    assert_eq!(global["appTokenRequestsUnauthorized"], 2);
}

#[tokio::test]
async fn config_lists_the_demo_users_only_for_the_built_in_config() {
    let h = start_with(fast_settings()).await;
    let config: Value = h.get_json(&format!("{}/api/config", h.app)).await;
    let expected: Vec<Value> = DEMO_USERS
        .iter()
        .map(|(name, password)| json!({"name": name, "password": password}))
        .collect();
    assert_eq!(config["demoUsers"], json!(expected));

    let file = Config::from_toml(
        "[[apps]]\nid='A'\nsecret='S'\n[[users]]\nname='spock@enterprise.com'\npassword='spock'\n",
    )
    .unwrap();
    let h = start_with_config(file, fast_settings()).await;
    let config: Value = h.get_json(&format!("{}/api/config", h.app)).await;
    assert!(config.get("demoUsers").is_none(), "{config}");
    assert!(!config.to_string().contains("spock"));
}
