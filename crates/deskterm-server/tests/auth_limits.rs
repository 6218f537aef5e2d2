//! Failed sign-ins are limited per token and per address (429 with
//! `Retry-After`); revoked and rotated-away tokens fail on the very next request.

mod support;

use std::time::Duration;

use deskterm_server::AuthLimits;
use reqwest::StatusCode;
use support::{Helpdesk, problem};

const HOUR: Duration = Duration::from_secs(3600);

async fn get_me(h: &Helpdesk, token: &str) -> reqwest::Response {
    h.http
        .get(h.url("/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_token_failing_again_and_again_gets_429_with_retry_after() {
    let h = Helpdesk::start_with_limits(AuthLimits {
        per_token: 3,
        per_address: 1000,
        window: HOUR,
    })
    .await;
    let bad = "dkt_0000000000000000000000000000000000000000000000000000000000000000";
    for _ in 0..3 {
        problem(get_me(&h, bad).await, StatusCode::UNAUTHORIZED).await;
    }
    let r = get_me(&h, bad).await;
    let wait = retry_after(&r);
    assert!((1..=3600).contains(&wait), "{wait}");
    let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        p["detail"].as_str().unwrap().contains("failed sign-ins"),
        "{p}"
    );
    // Other tokens from the same address are not held back.
    assert_eq!(get_me(&h, &h.token).await.status(), StatusCode::OK);
    problem(get_me(&h, "dkt_other").await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_address_trying_many_tokens_gets_429_but_working_tokens_pass() {
    let h = Helpdesk::start_with_limits(AuthLimits {
        per_token: 1000,
        per_address: 5,
        window: HOUR,
    })
    .await;
    // Ana signs in before the guessing starts.
    assert_eq!(get_me(&h, &h.token).await.status(), StatusCode::OK);
    for i in 0..5 {
        problem(
            get_me(&h, &format!("dkt_guess{i}")).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let r = get_me(&h, "dkt_guess-next").await;
    assert!(retry_after(&r) >= 1);
    problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    // No header at all is limited too.
    let r = h.http.get(h.url("/me")).send().await.unwrap();
    problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    // A token that worked recently still works from the blocked address...
    assert_eq!(get_me(&h, &h.token).await.status(), StatusCode::OK);
    // ...but one never seen must wait: it could be a guess.
    let (_, fresh) = deskterm_server::add_operator(&h.db, "Bruno", "bruno@example.com")
        .await
        .unwrap();
    problem(get_me(&h, &fresh).await, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn successful_requests_are_never_limited() {
    let h = Helpdesk::start_with_limits(AuthLimits {
        per_token: 2,
        per_address: 2,
        window: HOUR,
    })
    .await;
    for _ in 0..30 {
        assert_eq!(get_me(&h, &h.token).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn the_limit_lifts_after_the_window() {
    let window = Duration::from_secs(2);
    let h = Helpdesk::start_with_limits(AuthLimits {
        per_token: 2,
        per_address: 1000,
        window,
    })
    .await;
    let bad = "dkt_bad";
    // Fail until refused (on a loaded machine the window may restart once or twice).
    let mut attempts = 0;
    loop {
        let r = get_me(&h, bad).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        attempts += 1;
        assert!(attempts < 100, "never limited");
    }
    tokio::time::sleep(window + Duration::from_millis(500)).await;
    problem(get_me(&h, bad).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_revoked_operator_is_refused_on_the_very_next_request() {
    let h = Helpdesk::start().await;
    let (bruno, first) = deskterm_server::add_operator(&h.db, "Bruno", "bruno@example.com")
        .await
        .unwrap();
    let second = deskterm_server::issue_token(&h.db, bruno.id).await.unwrap();
    assert_eq!(get_me(&h, &first).await.status(), StatusCode::OK);
    deskterm_server::revoke_operator(&h.db, "BRUNO@example.com")
        .await
        .unwrap();
    for token in [&first, &second] {
        problem(get_me(&h, token).await, StatusCode::UNAUTHORIZED).await;
    }
    assert!(deskterm_server::issue_token(&h.db, bruno.id).await.is_err());
    assert!(
        deskterm_server::rotate_token(&h.db, &bruno.id.to_string())
            .await
            .is_err()
    );
    let listed = deskterm_server::list_operators(&h.db).await.unwrap();
    let b = listed.iter().find(|o| o.id == bruno.id).unwrap();
    assert!(b.revoked);
    assert_eq!(b.tokens, 0);
    // Ana is untouched.
    assert_eq!(get_me(&h, &h.token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_away_token_is_refused_on_the_very_next_request() {
    let h = Helpdesk::start().await;
    let other = deskterm_server::issue_token(&h.db, h.operator.id)
        .await
        .unwrap();
    assert_eq!(get_me(&h, &h.token).await.status(), StatusCode::OK);
    let new = deskterm_server::rotate_token(&h.db, "ana@example.com")
        .await
        .unwrap();
    for old in [&h.token, &other] {
        problem(get_me(&h, old).await, StatusCode::UNAUTHORIZED).await;
    }
    assert_eq!(get_me(&h, &new).await.status(), StatusCode::OK);
    assert!(
        deskterm_server::rotate_token(&h.db, "nobody@example.com")
            .await
            .is_err()
    );
}
