//! A write the operator's role does not allow (an agent editing another
//! operator's ticket) is refused once, with the reason, and leaves the
//! outbox: retrying would never change the answer, and the writes queued
//! behind it must not wait for it.

mod support;

use std::time::Duration;

use deskterm::sync::{SyncEvent, Write};
use deskterm_api::{TicketId, TicketPatch};
use serde_json::json;
use support::{Client, World, loaded, settled};

fn retitle(client: &Client, ticket: TicketId, title: &str) -> Write {
    Write::Patch {
        ticket,
        version: client.known[&ticket].version,
        patch: TicketPatch {
            title: Some(title.to_owned()),
            ..Default::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_role_forbids_is_refused_once_and_holds_nothing_back() {
    let world = World::new(2).await;
    // The demo's first operator is an admin; the second, an agent.
    let admin = world.api();
    let agent_token = world.token_for_another_operator().await;
    let mut tickets = admin.tickets().await;
    tickets.sort_by_key(|t| t.id);
    let (theirs, unassigned) = (tickets[0].clone(), tickets[1].clone());
    let me: serde_json::Value = admin.get("/me").await;
    admin
        .patch(
            theirs.id,
            theirs.version,
            &json!({ "operator_id": me["id"] }),
        )
        .await;

    let mut agent = Client::start(
        &world.url(),
        &agent_token,
        world.dir.path().join("agent.db"),
    )
    .await;
    agent
        .until("the first load", Duration::from_secs(20), loaded)
        .await;
    let refused = agent.write(retitle(&agent, theirs.id, "Not mine to rename"));
    let behind = agent.write(retitle(&agent, unassigned.id, "Taken by the agent"));
    agent
        .until("both writes to settle", Duration::from_secs(30), |events| {
            settled(events, refused) && settled(events, behind)
        })
        .await;

    let failure = agent.events.iter().find_map(|e| match e {
        SyncEvent::WriteFailed { op, error, .. } if *op == refused => Some(error.clone()),
        _ => None,
    });
    let failure = failure.expect("the forbidden write is reported as refused");
    assert!(
        failure.contains("admin"),
        "the reason names the role: {failure}"
    );
    assert!(
        agent.events.contains(&SyncEvent::WriteDone(behind)),
        "the write behind it landed"
    );
    let now = admin.tickets().await;
    assert_eq!(
        now[0].title, theirs.title,
        "the other operator's ticket is untouched"
    );
    assert_eq!(now[1].title, "Taken by the agent");
    let cache = agent.stop().await;
    let opened = deskterm::sync::cache::Cache::open(&cache)
        .await
        .expect("cache");
    let left = opened.cache.summary().await.expect("summary").outbox;
    assert!(left.is_empty(), "nothing stays in the outbox: {left:?}");
}
