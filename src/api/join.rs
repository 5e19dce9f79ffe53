//! `/api/v1/join/{slug}`: the public side of joining. Anyone may ask; the phone is verified by a
//! 6-digit code before the request reaches the captains.

use std::collections::BTreeMap;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::auth::enforce;
use super::error::statuses::{Conflict, JsonBody, NotFound, RateLimited, Refused, Unavailable};
use super::error::{ApiError, ErrorCode, FieldErrors, PhoneConfirmation};
use crate::domain::channel::Channel;
use crate::domain::join_questions::{self, JoinQuestion};
use crate::domain::join_request::{JoinRequest, JoinState, consent_text};
use crate::domain::member::{self, DisplayName, street_address};
use crate::domain::neighborhood::{JoinPolicy, Neighborhood};
use crate::domain::phone::Phone;
use crate::i18n::{self, Language};
use crate::services::codes;
use crate::services::joining::{self, Asked, Asking};
use crate::services::neighborhoods;
use crate::state::AppState;
use crate::store::auth::CodeCheck;
use crate::store::rate_limits;

pub struct JoinApi;

/// What the join page shows.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct JoinCardOut {
    /// The neighborhood's name.
    pub name: String,
    /// What it is about.
    pub description: String,
    /// The number neighbors text.
    pub phone_number: String,
    /// The text the neighbor agrees to by asking to join.
    pub consent_text: String,
    /// `approval`: a captain decides; `open`: in once the phone is confirmed; `invite_only`: only
    /// personal invite links are accepted.
    pub join_policy: JoinPolicy,
    /// Questions to answer in `answers`, by `id`.
    pub join_questions: Vec<JoinQuestion>,
    /// Present when a neighbor may ask here to be in the group on WhatsApp (`channel`:
    /// `whatsapp`); the code then comes on WhatsApp.
    pub whatsapp: Option<JoinWhatsappOut>,
    /// The languages texts can be in, each `{code, name}`: a request's `language`.
    pub languages: Vec<LanguageOut>,
    /// The language of texts to a neighbor who names none (`en`, `es`).
    pub default_language: String,
    /// The consent text in each language, by code: what a neighbor agrees to in the language
    /// they read (`consent_text` and `whatsapp.consent_text` are the default language's).
    pub consent_texts: BTreeMap<String, ConsentTextsOut>,
}

/// A language texts can be in.
#[derive(Debug, Object)]
pub struct LanguageOut {
    /// `en`, `es`.
    pub code: String,
    /// Its name in itself: `English`, `Español`.
    pub name: String,
}

/// The consent texts of one language.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ConsentTextsOut {
    /// For SMS.
    pub sms: String,
    /// For WhatsApp, where the card offers it.
    pub whatsapp: Option<String>,
}

/// Joining on WhatsApp.
#[derive(Debug, Object)]
pub struct JoinWhatsappOut {
    /// The number to write to on WhatsApp (E.164).
    pub number: String,
    /// The text the neighbor agrees to by asking to join on WhatsApp.
    pub consent_text: String,
}

/// A request to join.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct JoinIn {
    /// The name neighbors will see on your texts (1 to 40 characters).
    pub name: String,
    /// Your mobile number; a 6-digit code is texted to it (sent on WhatsApp for `whatsapp`).
    pub phone: String,
    /// How you get the group's messages: `sms` (the default) or `whatsapp`, where the join card
    /// offers it.
    pub channel: Option<Channel>,
    /// The language of the texts you get (`en`, `es`); unset: the browser's `Accept-Language`
    /// where it names one of them, else the neighborhood's default.
    pub language: Option<String>,
    /// Your street address, for the captains (at most 200 characters).
    pub address: Option<String>,
    /// Answers to the card's `join_questions`, keyed by question `id`; required ones must be
    /// answered.
    pub answers: Option<BTreeMap<String, String>>,
    /// Must be `true`: you agree to the `consent_text` of the join card (of its `whatsapp` part
    /// for `whatsapp`).
    pub consent: bool,
    /// The code of a personal invite link (`?invite=...`), if you came from one.
    pub invite: Option<String>,
}

/// The request as the neighbor sees it.
#[derive(Debug, Object)]
pub struct JoinOut {
    /// Quote it when verifying the phone.
    pub request_id: Uuid,
    /// `pending_verification` until the code is entered, then `pending` until a captain decides.
    pub state: JoinState,
    /// What happens next, for people.
    pub message: String,
}

/// The code texted to the phone.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct VerifyIn {
    /// The request being verified.
    pub request_id: Uuid,
    /// The six digits from the text.
    pub code: String,
}

#[derive(ApiResponse)]
enum CardResponse {
    /// The neighborhood's join card.
    #[oai(status = 200)]
    Ok(Json<JoinCardOut>),
}

#[derive(ApiResponse)]
enum JoinResponse {
    /// Received: a code is on its way to the phone (or the phone's open request is returned).
    #[oai(status = 202)]
    Accepted(Json<JoinOut>),
}

#[derive(ApiResponse)]
enum VerifyResponse {
    /// Verified: the captains have been told.
    #[oai(status = 200)]
    Ok(Json<JoinOut>),
}

/// The active neighborhood behind a join link: 404, or 409 when archived, said in `asked`
/// (English when the neighbor named no language we ship).
async fn open_neighborhood<S>(
    state: &AppState,
    slug: &str,
    asked: Option<Language>,
) -> Result<Neighborhood, ApiError<S>> {
    neighborhoods::active_by_slug(state, slug)
        .await
        .map_err(|error| ApiError::from(error).in_language(asked.unwrap_or(Language::ENGLISH)))
}

/// The language the browser asks for, when it names one we ship.
fn browser_language(request: &Request) -> Option<Language> {
    request
        .header("accept-language")
        .and_then(Language::from_accept_language)
}

fn join_out(request: &JoinRequest, language: Language) -> JoinOut {
    let id = match request.state {
        JoinState::PendingVerification if request.member_channel == Channel::Whatsapp => {
            "api-join-code-sent-whatsapp"
        }
        JoinState::PendingVerification => "api-join-code-sent",
        JoinState::Pending => "api-join-pending",
        JoinState::Approved => "api-join-approved",
        JoinState::Denied => "api-join-denied",
    };
    JoinOut {
        request_id: request.id,
        state: request.state,
        message: i18n::text(language, id, &[]),
    }
}

#[OpenApi(prefix_path = "/api/v1/join", tag = "ApiTags::Join")]
impl JoinApi {
    /// Join card
    ///
    /// What a neighbor sees before asking to join.
    #[oai(path = "/:slug", method = "get", operation_id = "join_card")]
    async fn card(
        &self,
        state: Data<&AppState>,
        request: &Request,
        slug: Path<String>,
    ) -> Result<CardResponse, ApiError<(NotFound, Conflict, Unavailable)>> {
        let neighborhood = open_neighborhood(&state, &slug.0, browser_language(request)).await?;
        let name = neighborhood.name.as_str();
        let default = neighborhood.default_language;
        let on_whatsapp = joining::whatsapp_on_the_web(&state, &neighborhood);
        let whatsapp = on_whatsapp
            .then_some(neighborhood.whatsapp_sender.as_ref())
            .flatten()
            .map(|sender| JoinWhatsappOut {
                number: sender.as_str().to_owned(),
                consent_text: consent_text(name, Channel::Whatsapp, default),
            });
        let consent_texts = Language::all()
            .map(|language| {
                let texts = ConsentTextsOut {
                    sms: consent_text(name, Channel::Sms, language),
                    whatsapp: on_whatsapp.then(|| consent_text(name, Channel::Whatsapp, language)),
                };
                (language.code().to_owned(), texts)
            })
            .collect();
        Ok(CardResponse::Ok(Json(JoinCardOut {
            consent_text: consent_text(name, Channel::Sms, default),
            whatsapp,
            languages: Language::all()
                .map(|language| LanguageOut {
                    code: language.code().to_owned(),
                    name: language.name().to_owned(),
                })
                .collect(),
            default_language: default.code().to_owned(),
            consent_texts,
            name: neighborhood.name.into(),
            description: neighborhood.description.into(),
            phone_number: neighborhood.phone_number.into(),
            join_policy: neighborhood.join_policy,
            join_questions: neighborhood.join_questions,
        })))
    }

    /// Ask to join
    ///
    /// Files a request and texts a 6-digit code to the phone. A phone with an open request gets
    /// that request back (and a fresh code), never a second one. Limited per IP and per phone.
    /// Under the `invite_only` policy only personal invite links are taken (403 `invite_only`);
    /// under `open` the request is approved as soon as the phone is confirmed.
    #[oai(path = "/:slug", method = "post", operation_id = "submit_join_request")]
    async fn submit(
        &self,
        state: Data<&AppState>,
        request: &Request,
        slug: Path<String>,
        body: Json<JoinIn>,
    ) -> Result<
        JoinResponse,
        ApiError<(
            JsonBody,
            Refused,
            NotFound,
            Conflict,
            RateLimited,
            Unavailable,
        )>,
    > {
        let body = body.0;
        let named = body.language.as_deref().map(member::language);
        let asked = match &named {
            Some(Ok(language)) => Some(*language),
            _ => browser_language(request),
        };
        let neighborhood = open_neighborhood(&state, &slug.0, asked).await?;
        // Every answer from here on is in the neighbor's language.
        let language = neighborhood.language_for(asked);
        let said = |error: ApiError<_>| error.in_language(language);
        let mut errors = FieldErrors::in_language(language);
        let name = errors.check("name", DisplayName::parse(&body.name));
        let phone = errors.check("phone", Phone::parse(&body.phone));
        let address = errors
            .check("address", street_address(body.address.as_deref()))
            .flatten();
        if let Some(Err(refused)) = &named {
            errors.refused("language", refused);
        }
        let answers = match join_questions::answers(
            &neighborhood.join_questions,
            body.answers.unwrap_or_default(),
        ) {
            Ok(answers) => answers,
            Err(problems) => {
                for (field, refused) in problems {
                    errors.refused(&field, &refused);
                }
                BTreeMap::new()
            }
        };
        if !body.consent {
            errors.add("consent", i18n::text(language, "input-consent", &[]));
        }
        let (Some(name), Some(phone)) = (name, phone) else {
            return Err(errors.into_error());
        };
        errors.finish()?;
        let ip = state.client_ip(request);
        enforce(
            &state,
            &rate_limits::JOIN_REQUESTS_PER_IP,
            &state.client_rate_subject(request),
        )
        .await
        .map_err(said)?;
        enforce(
            &state,
            &rate_limits::JOIN_REQUESTS_PER_PHONE,
            phone.as_str(),
        )
        .await
        .map_err(said)?;
        let asking = Asking {
            language: asked,
            phone,
            channel: body.channel.unwrap_or_default(),
            name,
            address,
            answers,
            asked: Asked::Web {
                invite: body.invite,
                ip,
            },
        };
        let stored = joining::file(&state, &neighborhood, asking)
            .await
            .map_err(|error| ApiError::join_refusal(error, language))?;
        Ok(JoinResponse::Accepted(Json(join_out(&stored, language))))
    }

    /// Confirm the phone
    ///
    /// Checks the code; the request then reaches the captains, who are told by text.
    #[oai(
        path = "/:slug/verify",
        method = "post",
        operation_id = "verify_join_request"
    )]
    async fn verify(
        &self,
        state: Data<&AppState>,
        request: &Request,
        slug: Path<String>,
        body: Json<VerifyIn>,
    ) -> Result<VerifyResponse, ApiError<(JsonBody, NotFound, Conflict, RateLimited, Unavailable)>>
    {
        let asked = browser_language(request);
        let neighborhood = open_neighborhood(&state, &slug.0, asked).await?;
        // The browser's language until the request says which the neighbor chose.
        let mut language = neighborhood.language_for(asked);
        let said = |error: ApiError<_>, language| error.in_language(language);
        enforce(
            &state,
            &rate_limits::CODE_CHECKS_PER_IP,
            &state.client_rate_subject(request),
        )
        .await
        .map_err(|error| said(error, language))?;
        let invalid = |language| {
            ApiError::bad_request(
                ErrorCode::InvalidCode,
                &i18n::text(language, "api-join-code-wrong", &[]),
            )
        };
        let Some(before) = state
            .store
            .join_request(neighborhood.id, body.0.request_id)
            .await
            .map_err(|error| said(error.into(), language))?
        else {
            return Err(invalid(language));
        };
        language = neighborhood.language_for(before.language.or(asked));
        if before.state != JoinState::PendingVerification {
            return Ok(VerifyResponse::Ok(Json(join_out(&before, language))));
        }
        let hash = codes::hash(
            state.session_key.expose(),
            &before.phone,
            body.0.code.trim(),
        );
        if state
            .store
            .check_join_code(neighborhood.id, before.id, &hash)
            .await
            .map_err(|error| said(error.into(), language))?
            != CodeCheck::Accepted
        {
            return Err(invalid(language));
        }
        let after = joining::confirmed(&state, &neighborhood, &before)
            .await
            .map_err(|error| said(PhoneConfirmation(error).into(), language))?;
        Ok(VerifyResponse::Ok(Json(join_out(&after, language))))
    }
}
