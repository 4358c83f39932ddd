//! Users: unique usernames and emails ignoring case, and credentials by
//! email or username.

use natter_core::{Error, Id};
use natter_store::NewUser;

use crate::support::{user, S};

on_both!(
    users_are_unique_ignoring_case,
    credentials_by_email_or_username,
);

async fn users_are_unique_ignoring_case(s: S) {
    let alice = user(&s, "alice").await;
    assert_eq!(alice.email, "alice@example.com");
    let clash = |email: &str, username: &str| NewUser {
        email: email.into(),
        username: username.into(),
        name: "x".into(),
        password_hash: "h".into(),
    };
    let err = s
        .create_user(clash("other@example.com", "ALICE"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m == "username is taken"),
        "{err:?}"
    );
    let err = s
        .create_user(clash("Alice@Example.COM", "alice2"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m == "email is taken"),
        "{err:?}"
    );

    assert_eq!(s.me(alice.user.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        s.user(alice.user.id).await.unwrap(),
        Some(alice.user.clone())
    );
    assert_eq!(s.user(Id(999_999)).await.unwrap(), None);
}

async fn credentials_by_email_or_username(s: S) {
    let alice = user(&s, "alice").await;
    let bob = user(&s, "bob").await;
    for login in ["alice", "ALICE", "Alice@Example.com", " alice "] {
        let c = s.credentials(login).await.unwrap().expect(login);
        assert_eq!(c.me, alice);
        assert_eq!(c.password_hash, "hash-alice");
    }
    assert!(s.credentials("carol").await.unwrap().is_none());

    let found = s.search_users("LIC", 10).await.unwrap();
    assert_eq!(found, vec![alice.user.clone()]);
    assert_eq!(s.search_users("", 10).await.unwrap().len(), 2);
    assert!(
        s.search_users("%", 10).await.unwrap().is_empty(),
        "wildcards are literal"
    );
    let by_name = s
        .users_by_username(&["bob".into(), "nobody".into(), "alice".into()])
        .await
        .unwrap();
    assert_eq!(by_name, vec![alice.user, bob.user]);
}
