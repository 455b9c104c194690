//! The admin routes respoke-admin 1.9.0 calls (`/v1/adminsessions`, `/v1/apps`, `/v1/roles`),
//! their credentials and errors, roles used by `/v1/tokens` at once, their permissions
//! enforced on the socket, and `get /v1/turn`.

use respoke_devserver::config::{Config, DEMO_ADMIN, DEMO_APP_ID, DEMO_APP_SECRET, DEMO_ROLE_ID};
use respoke_devserver::respoke::role_store::MAX_ROLES_PER_APP;
use respoke_protocol::push::{publish_path, subscribers_path};
use respoke_protocol::sails::{Method, Response};
use serde_json::{json, Value};

use crate::common::*;

/// An HTTP reply: status and JSON body.
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    let body = reply.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Headers as respoke-admin sends them: every credential it does not hold as `null`.
fn sdk_headers(
    request: reqwest::RequestBuilder,
    admin_token: Option<&str>,
    app_secret: Option<&str>,
) -> reqwest::RequestBuilder {
    request
        .header("Admin-Token", admin_token.unwrap_or("null"))
        .header("App-Secret", app_secret.unwrap_or("null"))
        .header("App-Token", "null")
        .header("Respoke-SDK", "Respoke-Node.js/1.9.0 (Linux) Node.js/v20")
}

async fn admin_token(h: &Harness) -> String {
    let (status, body) = send(
        h.http
            .post(format!("{}/v1/adminsessions", h.api))
            .json(&json!({"username": DEMO_ADMIN.0, "password": DEMO_ADMIN.1})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// `POST /v1/roles` as the admin; returns the role.
async fn create_role(h: &Harness, token: &str, role: Value) -> Value {
    let (status, body) = send(sdk_headers(
        h.http.post(format!("{}/v1/roles", h.api)).json(&role),
        Some(token),
        None,
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn admin_sessions() {
    let h = start_with(fast_settings()).await;
    let token = admin_token(&h).await;
    assert_eq!(token.len(), 36);
    let url = format!("{}/v1/adminsessions", h.api);
    for (body, status) in [
        (json!({"username": DEMO_ADMIN.0, "password": "wrong"}), 401),
        (
            json!({"username": "nobody@x", "password": DEMO_ADMIN.1}),
            401,
        ),
        // A demo *user* is not an admin.
        (
            json!({"username": "spock@enterprise.com", "password": "spock"}),
            401,
        ),
        (json!({"username": DEMO_ADMIN.0}), 400),
        (json!({"username": 7, "password": "x"}), 400),
        (json!({"username": "", "password": ""}), 400),
        (json!({"username": "x".repeat(2000), "password": "x"}), 400),
        (json!([1]), 400),
    ] {
        let (got, reply) = send(h.http.post(&url).json(&body)).await;
        assert_eq!(got, status, "{body}: {reply}");
        assert!(reply["error"].is_string(), "{reply}");
        if status == 400 && body.is_object() {
            assert_eq!(reply["error"], "Validation Error.");
        }
    }
    let (status, reply) = send(
        h.http
            .post(&url)
            .header("Content-Type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!((status, reply["error"].is_string()), (400, true));
}

/// Admin logins pass the same throttle and verification bound as the app server's (issue 12,
/// row 2): a flood of wrong passwords is answered 429 with `Retry-After` once the user's
/// burst is spent, before any more argon2 work.
#[tokio::test]
async fn admin_login_flood_is_throttled() {
    let h = start_with(fast_settings()).await;
    let url = format!("{}/v1/adminsessions", h.api);
    let (mut unauthorized, mut throttled) = (0, 0);
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let reply = h
            .http
            .post(&url)
            .json(&json!({"username": DEMO_ADMIN.0, "password": "wrong"}))
            .send()
            .await
            .unwrap();
        match reply.status().as_u16() {
            401 => unauthorized += 1,
            429 => {
                throttled += 1;
                let retry_after: u64 = reply.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(retry_after >= 1);
                let body: Value = reply.json().await.unwrap();
                assert!(body["error"].is_string(), "{body}");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    // A burst of 5, then one more per `login_refill` (2 s) of the time the flood took: on a
    // loaded machine the 20 logins take longer and the bucket refills meanwhile.
    let refills = (started.elapsed().as_secs_f64() / 2.0).floor() as u32;
    let allowed = 5 + refills;
    assert!(
        unauthorized <= allowed,
        "{unauthorized} verifications let through (allowed {allowed})"
    );
    assert_eq!(unauthorized + throttled, 20);
    assert!(
        throttled >= 20 - allowed,
        "only {throttled} of 20 throttled"
    );
}

#[tokio::test]
async fn apps_by_secret_or_admin_token() {
    let h = start_with(fast_settings()).await;
    let token = admin_token(&h).await;
    let app_url = format!("{}/v1/apps/{DEMO_APP_ID}", h.api);
    let expected =
        json!({"id": DEMO_APP_ID, "name": "respoke-devserver demo", "developmentMode": true});
    // App-Secret (the SDK also sends `Admin-Token: null`, `App-Token: null`).
    let (status, body) = send(sdk_headers(
        h.http.get(&app_url),
        None,
        Some(DEMO_APP_SECRET),
    ))
    .await;
    assert_eq!((status, &body), (200, &expected));
    assert!(body.get("secret").is_none(), "the secret never leaves");
    // Admin-Token.
    let (status, body) = send(sdk_headers(h.http.get(&app_url), Some(&token), None)).await;
    assert_eq!((status, &body), (200, &expected));
    let (status, body) = send(sdk_headers(
        h.http.get(format!("{}/v1/apps", h.api)),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!((status, body), (200, json!([expected])));
    // Errors.
    let unknown = format!("{}/v1/apps/00000000-0000-4000-8000-000000000000", h.api);
    for (url, admin, secret, status, error) in [
        (
            &app_url,
            None,
            Some("wrong"),
            401,
            "Invalid appId or App-Secret.",
        ),
        (
            &app_url,
            None,
            None,
            401,
            "App-Secret or Admin-Token required.",
        ),
        (
            &app_url,
            Some("nope"),
            None,
            401,
            "Invalid or expired Admin-Token.",
        ),
        // A wrong Admin-Token is not saved by a right App-Secret.
        (
            &app_url,
            Some("nope"),
            Some(DEMO_APP_SECRET),
            401,
            "Invalid or expired Admin-Token.",
        ),
        (
            &unknown,
            Some(token.as_str()),
            None,
            404,
            "Object 'Apps' not found.",
        ),
        (
            &unknown,
            None,
            Some(DEMO_APP_SECRET),
            401,
            "Invalid appId or App-Secret.",
        ),
    ] {
        let (got, body) = send(sdk_headers(h.http.get(url), admin, secret)).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{url}"
        );
    }
}

#[tokio::test]
async fn roles_lifecycle_and_tokens() {
    let h = start_with(fast_settings()).await;
    let token = admin_token(&h).await;
    let role = create_role(
        &h,
        &token,
        json!({"appId": DEMO_APP_ID, "name": "agents", "mediaRelay": false,
               "events": {"subscribe": false, "unsubscribe": false},
               "groups": {"list": true, "*": {"subscribe": true, "publish": false}}}),
    )
    .await;
    let role_id = role["id"].as_str().unwrap().to_owned();
    assert_eq!(role_id.len(), 36);
    assert_eq!(role["appId"], DEMO_APP_ID);
    assert_eq!(role["name"], "agents");
    assert_eq!(role["groups"]["*"]["subscribe"], true);
    assert_eq!(role["groups"]["*"]["publish"], false);
    assert_eq!(role["groups"]["list"], true);

    // Listed with the config role; readable by id, with the App-Secret too.
    let list_url = format!("{}/v1/roles?appId={DEMO_APP_ID}", h.api);
    let (status, roles) = send(sdk_headers(
        h.http.get(&list_url),
        None,
        Some(DEMO_APP_SECRET),
    ))
    .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&role_id.as_str()) && ids.contains(&DEMO_ROLE_ID),
        "{ids:?}"
    );
    let role_url = format!("{}/v1/roles/{role_id}", h.api);
    let (status, got) = send(sdk_headers(
        h.http.get(format!("{role_url}?appId={DEMO_APP_ID}")),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!((status, &got), (200, &role));

    // Usable by /v1/tokens at once, with the Admin-Token or the App-Secret.
    let mint = |admin: Option<String>, secret: Option<&'static str>, role: String| {
        let request = h.http.post(format!("{}/v1/tokens", h.api)).json(
            &json!({"appId": DEMO_APP_ID, "endpointId": "agent@x", "roleId": role, "ttl": 84600}),
        );
        send(sdk_headers(request, admin.as_deref(), secret))
    };
    let (status, minted) = mint(Some(token.clone()), None, role_id.clone()).await;
    assert_eq!(status, 200, "{minted}");
    assert_eq!(minted["roleId"], role_id.as_str());
    let (status, _) = mint(None, Some(DEMO_APP_SECRET), role_id.to_ascii_lowercase()).await;
    assert_eq!(status, 200);
    let (status, _) = mint(Some("nope".into()), None, role_id.clone()).await;
    assert_eq!(status, 401);

    // PUT changes the fields given.
    let (status, updated) = send(sdk_headers(
        h.http
            .put(&role_url)
            .json(&json!({"name": "senior agents", "groups": {"*": {"publish": true}}})),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "senior agents");
    assert_eq!(updated["groups"]["*"]["publish"], true);
    assert_eq!(updated["groups"]["*"]["subscribe"], false);
    assert_eq!(updated["mediaRelay"], false);

    // DELETE; then it is gone everywhere.
    let (status, body) = send(sdk_headers(h.http.delete(&role_url), Some(&token), None)).await;
    assert_eq!((status, body), (200, json!({})));
    for request in [
        h.http.get(&role_url),
        h.http.delete(&role_url),
        h.http.put(&role_url).json(&json!({"name": "x"})),
    ] {
        let (status, body) = send(sdk_headers(request, Some(&token), None)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("Object 'Roles' not found."))
        );
    }
    let (status, body) = mint(Some(token.clone()), None, role_id.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("Object 'Roles' not found."))
    );
}

#[tokio::test]
async fn role_route_errors() {
    let config = Config::from_toml(&format!(
        r#"
[[apps]]
id = "{DEMO_APP_ID}"
secret = "{DEMO_APP_SECRET}"
development_mode = true
[[apps]]
id = "22222222-2222-4222-8222-222222222222"
secret = "other-secret"
[[apps.roles]]
id = "OTHER-ROLE"
name = "theirs"
[[admins]]
name = "root@x"
password = "root"
"#
    ))
    .unwrap();
    let h = start_with_config(config, fast_settings()).await;
    let (status, body) = send(
        h.http
            .post(format!("{}/v1/adminsessions", h.api))
            .json(&json!({"username": "root@x", "password": "root"})),
    )
    .await;
    assert_eq!(status, 200);
    let token = body["token"].as_str().unwrap().to_owned();
    let roles_url = format!("{}/v1/roles", h.api);
    let other_role = format!("{roles_url}/OTHER-ROLE");

    // Bad bodies: 400 with the field named.
    for (body, field) in [
        (json!({"name": "n"}), "appId"),
        (json!({"appId": DEMO_APP_ID}), "name"),
        (
            json!({"appId": DEMO_APP_ID, "name": "n", "groups": {"*": {"publish": "yes"}}}),
            "groups.*.publish",
        ),
        (
            json!({"appId": DEMO_APP_ID, "name": "n", "groups": {"*": {"teleport": true}}}),
            "groups.*.teleport",
        ),
        (
            json!({"appId": DEMO_APP_ID, "name": "n", "groups": ["*"]}),
            "groups",
        ),
        (
            json!({"appId": DEMO_APP_ID, "name": "n".repeat(129)}),
            "name",
        ),
        (
            json!({"appId": DEMO_APP_ID, "name": "n", "mediaRelay": 1}),
            "mediaRelay",
        ),
    ] {
        let (status, reply) = send(sdk_headers(
            h.http.post(&roles_url).json(&body),
            Some(&token),
            None,
        ))
        .await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(reply["error"], "Validation Error.");
        assert!(
            reply["validationErrors"][field].is_string(),
            "{body}: {reply}"
        );
    }
    let (status, _) = send(sdk_headers(
        h.http
            .post(&roles_url)
            .header("Content-Type", "application/json")
            .body("{oops"),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!(status, 400);
    let (status, reply) = send(sdk_headers(h.http.get(&roles_url), Some(&token), None)).await;
    assert_eq!(status, 400);
    assert!(reply["validationErrors"]["appId"].is_string());

    // Credentials: none, wrong, or another app's.
    let body = json!({"appId": DEMO_APP_ID, "name": "n"});
    for (admin, secret, status) in [
        (None, None, 401),
        (None, Some("wrong"), 401),
        (None, Some("other-secret"), 401),
        (Some("expired-or-made-up"), None, 401),
    ] {
        let (got, reply) = send(sdk_headers(
            h.http.post(&roles_url).json(&body),
            admin,
            secret,
        ))
        .await;
        assert_eq!(got, status, "{admin:?} {secret:?}: {reply}");
        assert!(reply["error"].is_string());
    }
    // Another app's role is not found through this app's secret, whatever the verb.
    for request in [
        h.http.get(&other_role),
        h.http.put(&other_role).json(&json!({"name": "mine"})),
        h.http.delete(&other_role),
    ] {
        let (status, reply) = send(sdk_headers(request, None, Some(DEMO_APP_SECRET))).await;
        assert_eq!(
            (status, reply["error"].as_str()),
            (404, Some("Object 'Roles' not found."))
        );
    }
    // ...but it is through its own, and through the Admin-Token; `?appId=` must match.
    let (status, _) = send(sdk_headers(
        h.http.get(&other_role),
        None,
        Some("other-secret"),
    ))
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(sdk_headers(
        h.http.get(format!("{other_role}?appId={DEMO_APP_ID}")),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!(status, 404);
    // A role stays in its app.
    let (status, reply) = send(sdk_headers(
        h.http.put(&other_role).json(&json!({"appId": DEMO_APP_ID})),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply["validationErrors"]["appId"].is_string());
    // A role of another app cannot be used to mint for this one.
    let (status, reply) = send(sdk_headers(
        h.http
            .post(format!("{}/v1/tokens", h.api))
            .json(&json!({"appId": DEMO_APP_ID, "endpointId": "e", "roleId": "OTHER-ROLE"})),
        None,
        Some(DEMO_APP_SECRET),
    ))
    .await;
    assert_eq!(
        (status, reply["error"].as_str()),
        (404, Some("Object 'Roles' not found."))
    );
    // At most MAX_ROLES_PER_APP roles per app.
    for n in 0..MAX_ROLES_PER_APP {
        let (status, _) = send(sdk_headers(
            h.http
                .post(&roles_url)
                .json(&json!({"appId": DEMO_APP_ID, "name": format!("r{n}")})),
            None,
            Some(DEMO_APP_SECRET),
        ))
        .await;
        assert_eq!(status, 200, "role {n}");
    }
    let (status, reply) = send(sdk_headers(
        h.http.post(&roles_url).json(&body),
        None,
        Some(DEMO_APP_SECRET),
    ))
    .await;
    assert_eq!(status, 403, "{reply}");
    // The other app is not affected by this one's count.
    let (status, _) = send(sdk_headers(
        h.http
            .post(&roles_url)
            .json(&json!({"appId": "22222222-2222-4222-8222-222222222222", "name": "n"})),
        None,
        Some("other-secret"),
    ))
    .await;
    assert_eq!(status, 200);
}

/// A socket whose session has `role_id`.
async fn open_with_role(h: &Harness, endpoint: &str, role_id: &str) -> Ws {
    let (status, minted) = send(
        h.http
            .post(format!("{}/v1/tokens", h.api))
            .header("App-Secret", DEMO_APP_SECRET)
            .json(&json!({"appId": DEMO_APP_ID, "endpointId": endpoint, "roleId": role_id})),
    )
    .await;
    assert_eq!(status, 200, "{minted}");
    let app_token = h.exchange(minted["tokenId"].as_str().unwrap()).await;
    let mut ws = h.open_socket(&app_token).await;
    let r = ws.request(Method::Post, "/v1/connections", json!({})).await;
    assert_eq!(r.status_code, 200);
    ws
}

fn assert_denied(response: &Response, what: &str) {
    assert_eq!(response.status_code, 403, "{what}: {:?}", response.body);
    let message = response.error_message().unwrap_or_default();
    assert!(
        message.starts_with("Permission denied"),
        "{what}: {message}"
    );
}

#[tokio::test]
async fn role_permissions_are_enforced_on_the_socket() {
    let h = start_with(fast_settings()).await;
    let token = admin_token(&h).await;
    // Members may join (and create) groups, not publish, list or leave them; `open` is
    // theirs entirely; `vip` they may only join once it exists.
    let role = create_role(
        &h,
        &token,
        json!({"appId": DEMO_APP_ID, "name": "listeners", "groups": {
            "*": {"create": true, "subscribe": true},
            "open": {"create": true, "subscribe": true, "unsubscribe": true, "publish": true,
                     "getsubscribers": true},
            "vip": {"subscribe": true}}}),
    )
    .await;
    let role_id = role["id"].as_str().unwrap().to_owned();
    let mut listener = open_with_role(&h, "listener@x", &role_id).await;
    let mut host = h.open_socket(&h.app_token("host@x").await).await; // the demo role: all
    host.request(Method::Post, "/v1/connections", json!({}))
        .await;

    let join = |group: &str| json!({"groups": [group]});
    let r = listener
        .request(Method::Post, "/v1/groups/", join("lobby"))
        .await;
    assert_eq!(r.status_code, 200, "{:?}", r.body);
    let r = listener
        .request(
            Method::Post,
            &publish_path("lobby"),
            json!({"message": "hi"}),
        )
        .await;
    assert_denied(&r, "publish");
    let r = listener
        .request(Method::Get, &subscribers_path("lobby"), json!({}))
        .await;
    assert_denied(&r, "getsubscribers");
    let r = listener
        .request(Method::Delete, "/v1/groups/", join("lobby"))
        .await;
    assert_denied(&r, "leave");
    // `vip` has no members yet: joining would create it.
    let r = listener
        .request(Method::Post, "/v1/groups/", join("vip"))
        .await;
    assert_denied(&r, "create by joining");
    // A request naming a denied group joins none of them.
    let r = listener
        .request(
            Method::Post,
            "/v1/groups/",
            json!({"groups": ["open", "vip"]}),
        )
        .await;
    assert_denied(&r, "join several");
    let r = host.request(Method::Post, "/v1/groups/", join("vip")).await;
    assert_eq!(r.status_code, 200);
    let r = listener
        .request(Method::Post, "/v1/groups/", join("vip"))
        .await;
    assert_eq!(r.status_code, 200, "{:?}", r.body);
    let r = host
        .request(Method::Get, &subscribers_path("vip"), json!({}))
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(2));
    let r = host
        .request(Method::Get, &subscribers_path("open"), json!({}))
        .await;
    assert_eq!(
        r.body,
        json!([]),
        "open was not joined by the refused request"
    );
    // The group with its own entry.
    let r = listener
        .request(Method::Post, "/v1/groups/", join("open"))
        .await;
    assert_eq!(r.status_code, 200);
    let r = listener
        .request(
            Method::Post,
            &publish_path("open"),
            json!({"message": "hi"}),
        )
        .await;
    assert_eq!(r.status_code, 200, "{:?}", r.body);
    let r = listener
        .request(Method::Get, &subscribers_path("open"), json!({}))
        .await;
    assert_eq!(r.status_code, 200);

    // PUT takes effect on the live session's next request.
    let (status, _) = send(sdk_headers(
        h.http
            .put(format!("{}/v1/roles/{role_id}", h.api))
            .json(&json!({"groups": {"*": {"publish": true}}})),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!(status, 200);
    let r = listener
        .request(
            Method::Post,
            &publish_path("lobby"),
            json!({"message": "now"}),
        )
        .await;
    assert_eq!(r.status_code, 200, "{:?}", r.body);
    // A deleted role's sessions may only leave groups.
    let (status, _) = send(sdk_headers(
        h.http.delete(format!("{}/v1/roles/{role_id}", h.api)),
        Some(&token),
        None,
    ))
    .await;
    assert_eq!(status, 200);
    let r = listener
        .request(
            Method::Post,
            &publish_path("lobby"),
            json!({"message": "gone"}),
        )
        .await;
    assert_denied(&r, "publish after delete");
    let r = listener
        .request(Method::Post, "/v1/channels/", json!({"name": "new"}))
        .await;
    assert_denied(&r, "create after delete");
    let r = listener
        .request(Method::Delete, "/v1/groups/", join("lobby"))
        .await;
    assert_eq!(r.status_code, 200, "leave after delete: {:?}", r.body);
    // Messages are not group operations: still fine.
    let r = listener
        .request(
            Method::Post,
            "/v1/messages",
            json!({"to": "host@x", "message": "m"}),
        )
        .await;
    assert_eq!(r.status_code, 200);
}

#[tokio::test]
async fn turn_credentials() {
    // None configured: an empty list of URIs.
    let h = start_with(fast_settings()).await;
    let mut ws = h.open_socket(&h.app_token("spock@x").await).await;
    let r = ws.request(Method::Get, "/v1/turn", json!({})).await;
    assert_eq!((r.status_code, r.body), (200, json!({"uris": []})));

    let config = Config::from_toml(&format!(
        r#"
[[apps]]
id = "{DEMO_APP_ID}"
secret = "{DEMO_APP_SECRET}"
[[apps.roles]]
id = "{DEMO_ROLE_ID}"
name = "r"
[turn]
uris = ["turn:127.0.0.1:3478?transport=udp", "turns:relay.example:5349?transport=tcp"]
secret = "north"
ttl = 600
"#
    ))
    .unwrap();
    let h = start_with_config(config, fast_settings()).await;
    let mut ws = h.open_socket(&h.app_token("spock@x").await).await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let r = ws.request(Method::Get, "/v1/turn", json!({})).await;
    assert_eq!(r.status_code, 200);
    let reply = r.body;
    let username = reply["username"].as_str().unwrap();
    let (expiry, endpoint) = username.split_once(':').unwrap();
    assert_eq!(endpoint, "spock@x");
    let expiry: u64 = expiry.parse().unwrap();
    assert!((before + 600..=before + 602).contains(&expiry), "{expiry}");
    let password = reply["password"].as_str().unwrap();
    assert_eq!(password.len(), 28, "base64 of a 20-byte HMAC-SHA1");
    assert_eq!(
        password,
        respoke_devserver::respoke::turn::password("north", username)
    );
    assert_ne!(
        password,
        respoke_devserver::respoke::turn::password("south", username)
    );
    assert_eq!(reply["ttl"], 600);
    assert_eq!(reply["uris"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn wrong_methods_and_undecodable_ids_are_json_errors() {
    let h = start_with(fast_settings()).await;
    let token = admin_token(&h).await;
    for (method, path, status) in [
        (reqwest::Method::PATCH, "/v1/roles/X", 405),
        (reqwest::Method::DELETE, "/v1/apps", 405),
        (reqwest::Method::GET, "/v1/adminsessions", 405),
        (reqwest::Method::GET, "/v1/roles/%FF%FE", 400),
        (reqwest::Method::GET, "/v1/apps/%C3%28", 400),
    ] {
        let (got, body) = send(sdk_headers(
            h.http.request(method.clone(), format!("{}{path}", h.api)),
            Some(&token),
            None,
        ))
        .await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }
}
