//! The only code that implements anything on generated types: progenitor's hooks on the generated
//! `Client`. `pre` adds the credentials and the User-Agent and drops the `api-version` header the
//! API does not take; `exec` hands the request to [`crate::transport`] and the outcome to
//! [`crate::exchange`], which turns it into what the generated code expects.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, USER_AGENT};
use reqwest::{Request, Response};

use crate::settings::ClientSettings;
use crate::{exchange, generated, transport};

/// The header progenitor adds to every request and the API does not take.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");

impl ClientHooks<ClientSettings> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let settings = self.inner().settings();
        let headers = request.headers_mut();
        headers.remove(API_VERSION);
        headers.insert(USER_AGENT, settings.user_agent.clone());
        settings.credentials.apply(headers);
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let delivery = transport::execute(
            self.inner().settings(),
            self.client(),
            request,
            info.operation_id,
        )
        .await;
        exchange::hand_over(delivery)
    }
}
