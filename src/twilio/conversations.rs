//! Conversations v1 (conversations.twilio.com): conversations, SMS participants, messages,
//! participant lookup by address and the account-wide webhook settings.

use reqwest::Method;

use super::client::{ListPage, TwilioClient, decode, observe, push_some};
use super::error::TwilioError;
use super::types::{
    Conversation, ConversationMessage, ConversationParams, CreateConversationMessage,
    CreateMessagingParticipant, ListConversationMessages, Page, Participant,
    ParticipantConversation, UpdateWebhookConfiguration, WebhookConfiguration,
};
use super::urls::{Host, rebase_next_page};

/// Twilio's maximum page size for participants (messages too).
const PARTICIPANTS_PAGE_SIZE: &str = "100";
/// Twilio's maximum page size for ParticipantConversations.
const PARTICIPANT_CONVERSATIONS_PAGE_SIZE: &str = "50";

impl TwilioClient {
    /// POST /v1/Conversations
    #[tracing::instrument(skip_all, fields(unique_name = ?request.unique_name))]
    pub async fn create_conversation(
        &self,
        request: &ConversationParams,
    ) -> Result<Conversation, TwilioError> {
        observe("create_conversation", async {
            let url = self.url(Host::Conversations, &["v1", "Conversations"])?;
            let raw = self
                .send(
                    Method::POST,
                    url,
                    &conversation_form(request),
                    request.webhook_enabled,
                )
                .await?;
            decode(&raw)
        })
        .await
    }

    /// GET /v1/Conversations/{Sid}; a unique name works in place of the sid.
    #[tracing::instrument(skip_all, fields(conversation = %sid_or_unique_name))]
    pub async fn fetch_conversation(
        &self,
        sid_or_unique_name: &str,
    ) -> Result<Conversation, TwilioError> {
        observe("fetch_conversation", async {
            let url = self.url(
                Host::Conversations,
                &["v1", "Conversations", sid_or_unique_name],
            )?;
            decode(&self.send(Method::GET, url, &[], false).await?)
        })
        .await
    }

    /// POST /v1/Conversations/{Sid}; only the `Some` fields change.
    #[tracing::instrument(skip_all, fields(conversation_sid = %sid))]
    pub async fn update_conversation(
        &self,
        sid: &str,
        request: &ConversationParams,
    ) -> Result<Conversation, TwilioError> {
        observe("update_conversation", async {
            let url = self.url(Host::Conversations, &["v1", "Conversations", sid])?;
            let raw = self
                .send(
                    Method::POST,
                    url,
                    &conversation_form(request),
                    request.webhook_enabled,
                )
                .await?;
            decode(&raw)
        })
        .await
    }

    /// DELETE /v1/Conversations/{Sid} -> 204; frees every (Address, ProxyAddress) binding in it.
    #[tracing::instrument(skip_all, fields(conversation_sid = %sid))]
    pub async fn delete_conversation(&self, sid: &str) -> Result<(), TwilioError> {
        observe("delete_conversation", async {
            let url = self.url(Host::Conversations, &["v1", "Conversations", sid])?;
            self.send(Method::DELETE, url, &[], false).await?;
            Ok(())
        })
        .await
    }

    /// SMS or WhatsApp participant: MessagingBinding.Address + MessagingBinding.ProxyAddress
    /// (+ Attributes)
    #[tracing::instrument(skip_all, fields(conversation_sid = %conversation_sid))]
    pub async fn create_messaging_participant(
        &self,
        conversation_sid: &str,
        request: &CreateMessagingParticipant,
    ) -> Result<Participant, TwilioError> {
        observe("create_messaging_participant", async {
            let url = self.url(
                Host::Conversations,
                &["v1", "Conversations", conversation_sid, "Participants"],
            )?;
            let mut form = vec![
                ("MessagingBinding.Address", request.address.clone()),
                (
                    "MessagingBinding.ProxyAddress",
                    request.proxy_address.clone(),
                ),
            ];
            push_some(&mut form, "Attributes", request.attributes.as_deref());
            let raw = self
                .send(Method::POST, url, &form, request.webhook_enabled)
                .await?;
            decode(&raw)
        })
        .await
    }

    /// GET /v1/Conversations/{CH}/Participants, following meta.next_page_url until the end.
    #[tracing::instrument(skip_all, fields(conversation_sid = %conversation_sid))]
    pub async fn list_participants(
        &self,
        conversation_sid: &str,
    ) -> Result<Vec<Participant>, TwilioError> {
        observe("list_participants", async {
            let mut url = self.url(
                Host::Conversations,
                &["v1", "Conversations", conversation_sid, "Participants"],
            )?;
            url.query_pairs_mut()
                .append_pair("PageSize", PARTICIPANTS_PAGE_SIZE);
            self.collect_pages(Host::Conversations, url).await
        })
        .await
    }

    /// DELETE /v1/Conversations/{CH}/Participants/{MB} -> 204; frees the participant's binding.
    #[tracing::instrument(skip_all, fields(conversation_sid = %conversation_sid, participant_sid = %participant_sid))]
    pub async fn delete_participant(
        &self,
        conversation_sid: &str,
        participant_sid: &str,
    ) -> Result<(), TwilioError> {
        observe("delete_participant", async {
            let url = self.url(
                Host::Conversations,
                &[
                    "v1",
                    "Conversations",
                    conversation_sid,
                    "Participants",
                    participant_sid,
                ],
            )?;
            self.send(Method::DELETE, url, &[], false).await?;
            Ok(())
        })
        .await
    }

    /// POST /v1/Conversations/{CH}/Messages  Author, Body, Attributes
    #[tracing::instrument(skip_all, fields(conversation_sid = %conversation_sid))]
    pub async fn create_conversation_message(
        &self,
        conversation_sid: &str,
        request: &CreateConversationMessage,
    ) -> Result<ConversationMessage, TwilioError> {
        observe("create_conversation_message", async {
            let url = self.url(
                Host::Conversations,
                &["v1", "Conversations", conversation_sid, "Messages"],
            )?;
            let mut form = Vec::new();
            push_some(&mut form, "Author", request.author.as_deref());
            // A picture may go without words.
            if !request.body.is_empty() || request.media_sid.is_none() {
                form.push(("Body", request.body.clone()));
            }
            push_some(&mut form, "Attributes", request.attributes.as_deref());
            push_some(&mut form, "MediaSid", request.media_sid.as_deref());
            // Twilio cannot be asked to post a message once only: a 5xx is the caller's to check
            // (`jobs::outbox::relay` looks for its copy before posting again).
            let raw = self
                .send_unrepeated(url, &form, request.webhook_enabled)
                .await?;
            decode(&raw)
        })
        .await
    }

    /// One page (Order, PageSize) — message lists can be huge, so callers page explicitly with
    /// [`TwilioClient::next_conversation_messages`].
    #[tracing::instrument(skip_all, fields(conversation_sid = %conversation_sid))]
    pub async fn list_conversation_messages(
        &self,
        conversation_sid: &str,
        request: &ListConversationMessages,
    ) -> Result<Page<ConversationMessage>, TwilioError> {
        observe("list_conversation_messages", async {
            let mut url = self.url(
                Host::Conversations,
                &["v1", "Conversations", conversation_sid, "Messages"],
            )?;
            {
                let mut query = url.query_pairs_mut();
                if let Some(order) = request.order {
                    query.append_pair("Order", order.as_str());
                }
                if let Some(page_size) = request.page_size {
                    query.append_pair("PageSize", &page_size.to_string());
                }
            }
            // No parameters at all would leave a dangling `?`.
            if url.query() == Some("") {
                url.set_query(None);
            }
            self.messages_page(url).await
        })
        .await
    }

    /// The page behind a `next_page_url` from [`TwilioClient::list_conversation_messages`].
    #[tracing::instrument(skip_all)]
    pub async fn next_conversation_messages(
        &self,
        next_page_url: &str,
    ) -> Result<Page<ConversationMessage>, TwilioError> {
        observe("next_conversation_messages", async {
            let url = rebase_next_page(self.base(Host::Conversations), next_page_url)?;
            self.messages_page(url).await
        })
        .await
    }

    async fn messages_page(&self, url: url::Url) -> Result<Page<ConversationMessage>, TwilioError> {
        let page: ListPage<ConversationMessage> =
            decode(&self.send(Method::GET, url, &[], false).await?)?;
        Ok(Page {
            items: page.items,
            next_page_url: page.meta.next_page_url.filter(|next| !next.is_empty()),
        })
    }

    /// GET /v1/ParticipantConversations?Address=%2B1... (follows paging)
    #[tracing::instrument(skip_all)]
    pub async fn participant_conversations_by_address(
        &self,
        address: &str,
    ) -> Result<Vec<ParticipantConversation>, TwilioError> {
        observe("participant_conversations_by_address", async {
            let mut url = self.url(Host::Conversations, &["v1", "ParticipantConversations"])?;
            url.query_pairs_mut()
                .append_pair("Address", address)
                .append_pair("PageSize", PARTICIPANT_CONVERSATIONS_PAGE_SIZE);
            self.collect_pages(Host::Conversations, url).await
        })
        .await
    }

    /// GET /v1/Configuration/Webhooks
    #[tracing::instrument(skip_all)]
    pub async fn fetch_webhook_configuration(&self) -> Result<WebhookConfiguration, TwilioError> {
        observe("fetch_webhook_configuration", async {
            let url = self.url(Host::Conversations, &["v1", "Configuration", "Webhooks"])?;
            decode(&self.send(Method::GET, url, &[], false).await?)
        })
        .await
    }

    /// POST /v1/Configuration/Webhooks (PreWebhookUrl, PostWebhookUrl, Method, Filters repeated, Target)
    #[tracing::instrument(skip_all)]
    pub async fn update_webhook_configuration(
        &self,
        request: &UpdateWebhookConfiguration,
    ) -> Result<WebhookConfiguration, TwilioError> {
        observe("update_webhook_configuration", async {
            let url = self.url(Host::Conversations, &["v1", "Configuration", "Webhooks"])?;
            let mut form = Vec::new();
            push_some(
                &mut form,
                "PreWebhookUrl",
                request.pre_webhook_url.as_deref(),
            );
            push_some(
                &mut form,
                "PostWebhookUrl",
                request.post_webhook_url.as_deref(),
            );
            if let Some(method) = request.method {
                form.push(("Method", method.as_str().to_owned()));
            }
            for filter in &request.filters {
                form.push(("Filters", filter.clone()));
            }
            if let Some(target) = request.target {
                form.push(("Target", target.as_str().to_owned()));
            }
            decode(&self.send(Method::POST, url, &form, false).await?)
        })
        .await
    }
}

/// Create/update form of a conversation. Never any `Timers.*`: a neighborhood must not close.
fn conversation_form(request: &ConversationParams) -> Vec<(&'static str, String)> {
    let mut form = Vec::new();
    push_some(&mut form, "FriendlyName", request.friendly_name.as_deref());
    push_some(&mut form, "UniqueName", request.unique_name.as_deref());
    push_some(&mut form, "Attributes", request.attributes.as_deref());
    push_some(
        &mut form,
        "MessagingServiceSid",
        request.messaging_service_sid.as_deref(),
    );
    if let Some(state) = request.state {
        form.push(("State", state.as_str().to_owned()));
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twilio::types::ConversationState;

    #[test]
    fn the_conversation_form_sends_only_the_fields_that_are_set() {
        let form = conversation_form(&ConversationParams {
            friendly_name: Some("Maple Street".to_owned()),
            state: Some(ConversationState::Closed),
            ..ConversationParams::default()
        });
        assert_eq!(
            form,
            vec![
                ("FriendlyName", "Maple Street".to_owned()),
                ("State", "closed".to_owned()),
            ]
        );
    }
}
