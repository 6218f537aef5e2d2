//! An SQLite database written by an older server is brought up to date.
//! (PostgreSQL databases start at the current schema.)

#[tokio::test]
async fn a_database_from_before_roles_keeps_its_first_operator_as_admin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut before_roles = sqlx::migrate!("./migrations");
        before_roles.migrations = std::borrow::Cow::Owned(before_roles.migrations[..1].to_vec());
        before_roles.run(&pool).await.unwrap();
        for (name, email) in [
            ("First", "first@example.com"),
            ("Second", "second@example.com"),
        ] {
            sqlx::query(
                "INSERT INTO operators (name, name_folded, email, email_folded, created_at) \
                 VALUES (?, ?, ?, ?, '2026-01-01T00:00:00.000Z')",
            )
            .bind(name)
            .bind(name.to_lowercase())
            .bind(email)
            .bind(email)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let db = deskterm_server::Db::open(&path).await.unwrap();
    let roles: Vec<(String, deskterm_server::Role)> = deskterm_server::list_operators(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.name, o.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("First".to_owned(), deskterm_server::Role::Admin),
            ("Second".to_owned(), deskterm_server::Role::Agent)
        ]
    );
}
