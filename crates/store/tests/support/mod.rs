//! What every store test file shares: one macro that runs each test on both backends.

/// Generates `mod sqlite` and `mod postgres`, each with one test per name,
/// running `super::<name>(store)` on a fresh database of that backend.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        on_both!(@on sqlite: $($name),*);
        on_both!(@on postgres: $($name),*);
    };
    (@on $backend:ident: $($name:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = natter_store::testing::TestDb::$backend().await;
                    let store = natter_store::connect(&db.url).await.expect("open the store");
                    super::$name(store).await;
                }
            )*
        }
    };
}
