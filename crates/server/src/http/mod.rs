//! The REST API under `/api`, every route listed in `/api/openapi.json`.
//! Each feature owns its routes; this file assembles them.

pub mod errors;
pub mod extract;
mod ops;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Natter API", description = "Natter's REST API. Realtime events: see docs/PROTOCOL.md."),
    components(schemas(crate::error::ErrorEnvelope)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API's routes and the OpenAPI document that lists them, errors included.
fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::auth::http::router())
        .merge(crate::rooms::http::router())
        .merge(crate::dms::http::router())
        .merge(crate::messages::http::router())
        .merge(crate::users::http::router())
        .merge(crate::files::http::router())
        .merge(crate::push::http::router())
        .merge(crate::search::http::router())
        .split_for_parts();
    errors::document(&mut doc);
    (api, doc)
}

/// The document served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// All API routes, plus the OpenAPI document that lists them.
pub fn router() -> Router<AppState> {
    let (api, doc) = routes();
    let doc = std::sync::Arc::new(doc);
    api.merge(ops::router(doc))
        .method_not_allowed_fallback(method_not_allowed)
}

/// A known path with a method it does not have: 405, still in the error
/// envelope (code `not_found`: there is no such endpoint).
async fn method_not_allowed() -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut res = crate::error::ApiError(natter_core::Error::not_found(
        "no such endpoint for this method",
    ))
    .into_response();
    *res.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    res
}
