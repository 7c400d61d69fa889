use crate::helpers::spawn_app;

#[tokio::test]
async fn health_is_ok_while_the_database_answers() {
    let app = spawn_app().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn health_is_unavailable_once_the_database_is_gone() {
    let app = spawn_app().await;

    app.pool.close().await;
    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 503);
}
