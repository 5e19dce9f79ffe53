//! Captain commands by text to the neighborhood number: `#pending`, `#approve 12`, `#deny 12`,
//! `#remove Name`, `#mute Name`, `#unmute Name`, `#help`. They never reach the group; the answer
//! goes back 1:1 from the neighborhood number, and every change is audited with `source: sms`.

use uuid::Uuid;

use crate::domain::join_request::JoinState;
use crate::domain::member::{Member, MemberStatus, Role};
use crate::domain::neighborhood::Neighborhood;
use crate::i18n::{self, Language};
use crate::services::additions::{Adder, AdditionError};
use crate::services::joining::{self, DecisionError};
use crate::services::members::{self, MemberError};
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::{StoreError, UpdateError};

/// How many pending requests `#pending` lists in one text.
const PENDING_LISTED: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptainCommand {
    Pending,
    Approve(u64),
    Deny(u64),
    Remove(String),
    Mute(String),
    Unmute(String),
    Help,
}

/// How to write a command that was written wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// `#approve` or `#deny` without a request number.
    Number,
    /// `#remove`, `#mute` or `#unmute` (the word) without a name.
    Name(&'static str),
}

impl Usage {
    /// The reply that says how, in `language`.
    pub fn text(self, language: Language) -> String {
        match self {
            Self::Number => i18n::text(language, "cmd-usage-number", &[]),
            Self::Name(command) => {
                i18n::text(language, "cmd-usage-name", &[("command", command.into())])
            }
        }
    }
}

impl CaptainCommand {
    /// A text that starts with one of our `#words`: the command, or how to write it properly.
    /// Any other text (a `#hashtag` included) is None: a message for the group.
    pub fn parse(body: &str) -> Option<Result<Self, Usage>> {
        let text = body.trim();
        let rest = text.strip_prefix('#')?;
        let mut words = rest.splitn(2, char::is_whitespace);
        let word = words.next()?.to_ascii_lowercase();
        let argument = words.next().map(str::trim).unwrap_or_default();
        let number = || {
            argument
                .trim_start_matches('#')
                .parse::<u64>()
                .map_err(|_| Usage::Number)
        };
        let name = |command: &'static str| {
            (!argument.is_empty())
                .then(|| argument.to_owned())
                .ok_or(Usage::Name(command))
        };
        Some(match word.as_str() {
            "pending" => Ok(Self::Pending),
            "approve" => number().map(Self::Approve),
            "deny" => number().map(Self::Deny),
            "remove" => name("remove").map(Self::Remove),
            "mute" => name("mute").map(Self::Mute),
            "unmute" => name("unmute").map(Self::Unmute),
            "help" => Ok(Self::Help),
            _ => return None,
        })
    }

    /// The least role that may use it.
    fn needs(&self) -> Role {
        match self {
            Self::Approve(_) | Self::Deny(_) | Self::Remove(_) => Role::Captain,
            Self::Pending | Self::Mute(_) | Self::Unmute(_) | Self::Help => Role::Moderator,
        }
    }
}

/// Carries out `command` for `sender` and returns the reply to text them, in their language.
pub async fn run(
    state: &AppState,
    neighborhood: &Neighborhood,
    sender: &Member,
    command: CaptainCommand,
) -> Result<String, StoreError> {
    let say = Say(neighborhood.language_for(sender.language));
    if sender.role < command.needs() {
        return Ok(say.text("cmd-not-allowed", &[]));
    }
    let actor = format!("phone:{}", sender.phone.as_str());
    let id = neighborhood.id;
    let no_request = |number: u64| say.text("cmd-no-request", &[("number", number.into())]);
    Ok(match command {
        CaptainCommand::Help => say.text("cmd-help", &[]),
        // Addresses are for captains and up, as in the admin app (finding 13).
        CaptainCommand::Pending => pending(state, id, sender.role >= Role::Captain, say).await?,
        CaptainCommand::Approve(number) => match request_id(state, id, number).await? {
            None => no_request(number),
            Some(request_id) => {
                match joining::approve(state, id, request_id, (&actor, Adder::Captain)).await {
                    Ok(approval) if !approval.newly => {
                        say.text("cmd-approved-already", &[("number", number.into())])
                    }
                    Ok(approval) => {
                        audit(
                            state,
                            id,
                            &actor,
                            "join_request.approve",
                            format!("join_request:{request_id}"),
                        )
                        .await;
                        say.text(
                            "cmd-approved",
                            &[
                                ("number", number.into()),
                                ("name", approval.member.display_name.as_str().into()),
                            ],
                        )
                    }
                    Err(error) => decision_reply(number, error, say)?,
                }
            }
        },
        CaptainCommand::Deny(number) => match request_id(state, id, number).await? {
            None => no_request(number),
            Some(request_id) => match joining::deny(state, id, request_id, &actor).await {
                Ok(denial) if !denial.newly => {
                    say.text("cmd-denied-already", &[("number", number.into())])
                }
                Ok(denial) => {
                    audit(
                        state,
                        id,
                        &actor,
                        "join_request.deny",
                        format!("join_request:{request_id}"),
                    )
                    .await;
                    say.text(
                        "cmd-denied",
                        &[
                            ("number", number.into()),
                            ("name", denial.request.name.as_str().into()),
                        ],
                    )
                }
                Err(error) => decision_reply(number, error, say)?,
            },
        },
        CaptainCommand::Remove(name) => match active_member_named(state, id, &name).await? {
            None => no_member_named(&name, say),
            Some(member) => {
                match members::remove(state, id, member.id, sender.display_name.as_str(), None)
                    .await
                {
                    Ok(removed) => {
                        audit(
                            state,
                            id,
                            &actor,
                            "member.remove",
                            format!("member:{}", removed.id),
                        )
                        .await;
                        say.text(
                            "cmd-removed",
                            &[("name", removed.display_name.as_str().into())],
                        )
                    }
                    Err(MemberError::Forbidden(rule)) => rule.to_owned(),
                    Err(MemberError::NotFound) => no_member_named(&name, say),
                    Err(MemberError::Store(error)) => return Err(error),
                    Err(_) => say.text("cmd-try-again", &[]),
                }
            }
        },
        CaptainCommand::Mute(name) => {
            set_muted(state, id, (sender, &actor), &name, true, say).await?
        }
        CaptainCommand::Unmute(name) => {
            set_muted(state, id, (sender, &actor), &name, false, say).await?
        }
    })
}

/// Replies in one language.
#[derive(Debug, Clone, Copy)]
struct Say(Language);

impl Say {
    fn text(self, id: &str, args: &i18n::Args<'_>) -> String {
        i18n::text(self.0, id, args)
    }
}

async fn pending(
    state: &AppState,
    id: Uuid,
    captain_view: bool,
    say: Say,
) -> Result<String, StoreError> {
    let mut waiting: Vec<_> = state
        .store
        .join_requests(id)
        .await?
        .into_iter()
        .filter(|request| request.state == JoinState::Pending)
        .collect();
    if waiting.is_empty() {
        return Ok(say.text("cmd-none-waiting", &[]));
    }
    waiting.sort_by_key(|request| request.number);
    let listed: Vec<String> = waiting
        .iter()
        .take(PENDING_LISTED)
        .map(|request| {
            let address = request
                .address
                .as_deref()
                .filter(|_| captain_view)
                .map(|a| format!(", {a}"))
                .unwrap_or_default();
            format!("#{} {}{address}", request.number, request.name.as_str())
        })
        .collect();
    let more = waiting.len().saturating_sub(PENDING_LISTED);
    let list = listed.join("; ");
    Ok(if more > 0 {
        say.text(
            "cmd-waiting-more",
            &[("list", list.into()), ("more", more.into())],
        )
    } else {
        say.text("cmd-waiting", &[("list", list.into())])
    })
}

/// The id of the request with short number `number`.
async fn request_id(state: &AppState, id: Uuid, number: u64) -> Result<Option<Uuid>, StoreError> {
    Ok(state
        .store
        .join_requests(id)
        .await?
        .into_iter()
        .find(|request| request.number == number)
        .map(|request| request.id))
}

fn decision_reply(number: u64, error: DecisionError, say: Say) -> Result<String, StoreError> {
    let about = |id: &str| say.text(id, &[("number", number.into())]);
    Ok(match error {
        DecisionError::Store(error) | DecisionError::Additions(AdditionError::Store(error)) => {
            return Err(error);
        }
        DecisionError::Additions(AdditionError::OverCap { cap, .. }) => say.text(
            "cmd-over-cap",
            &[("number", number.into()), ("cap", cap.into())],
        ),
        DecisionError::NotPending(JoinState::PendingVerification) => about("cmd-unconfirmed"),
        DecisionError::NotPending(JoinState::Approved) => about("cmd-approved-already"),
        DecisionError::NotPending(_) => about("cmd-denied-already"),
        DecisionError::AlreadyMember => about("cmd-already-member"),
        DecisionError::Archived => about("cmd-archived"),
        DecisionError::NotFound | DecisionError::NeighborhoodNotFound => about("cmd-no-request"),
        DecisionError::KeptChanging => about("cmd-try-again"),
    })
}

/// The active member whose display name is `name`, ignoring case.
async fn active_member_named(
    state: &AppState,
    id: Uuid,
    name: &str,
) -> Result<Option<Member>, StoreError> {
    let key = crate::domain::member::name_key(name.trim());
    Ok(state
        .store
        .members(id)
        .await?
        .into_iter()
        .find(|member| member.status == MemberStatus::Active && member.display_name.key() == key))
}

fn no_member_named(name: &str, say: Say) -> String {
    say.text("cmd-no-member", &[("name", name.into())])
}

async fn set_muted(
    state: &AppState,
    id: Uuid,
    (sender, actor): (&Member, &str),
    name: &str,
    muted: bool,
    say: Say,
) -> Result<String, StoreError> {
    let Some(member) = active_member_named(state, id, name).await? else {
        return Ok(no_member_named(name, say));
    };
    // By text, only someone above a member's role mutes them (so never the owner).
    if member.role >= sender.role {
        return Ok(say.text(
            "cmd-cannot-mute",
            &[("name", member.display_name.as_str().into())],
        ));
    }
    let changed = state
        .store
        .update_read_member(member.clone(), |member| {
            member.muted = muted;
            Ok::<_, StoreError>(Vec::new())
        })
        .await;
    if UpdateError::unless_gone(changed)?.is_some_and(|update| update.changed()) {
        let action = if muted {
            "member.mute"
        } else {
            "member.unmute"
        };
        audit(state, id, actor, action, format!("member:{}", member.id)).await;
    }
    let id = if muted { "cmd-muted" } else { "cmd-unmuted" };
    Ok(say.text(id, &[("name", name.trim().into())]))
}

async fn audit(state: &AppState, id: Uuid, actor: &str, action: &str, target: String) {
    let entry = AuditEntry::now(
        actor.to_owned(),
        action,
        target,
        "sms".to_owned(),
        serde_json::json!({}),
    );
    state.store.record_audit(Some(id), &entry).await;
}

#[cfg(test)]
mod tests {
    use super::CaptainCommand;

    #[test]
    fn commands_are_our_hash_words_and_anything_else_is_a_message() {
        assert_eq!(
            CaptainCommand::parse("#approve 12"),
            Some(Ok(CaptainCommand::Approve(12)))
        );
        assert_eq!(
            CaptainCommand::parse(" #APPROVE #7 "),
            Some(Ok(CaptainCommand::Approve(7)))
        );
        assert_eq!(
            CaptainCommand::parse("#deny 3"),
            Some(Ok(CaptainCommand::Deny(3)))
        );
        assert_eq!(
            CaptainCommand::parse("#remove Ana R."),
            Some(Ok(CaptainCommand::Remove("Ana R.".into())))
        );
        assert_eq!(
            CaptainCommand::parse("#mute Bo"),
            Some(Ok(CaptainCommand::Mute("Bo".into())))
        );
        assert_eq!(
            CaptainCommand::parse("#pending"),
            Some(Ok(CaptainCommand::Pending))
        );
        assert!(matches!(
            CaptainCommand::parse("#approve twelve"),
            Some(Err(_))
        ));
        assert!(matches!(CaptainCommand::parse("#remove"), Some(Err(_))));
        assert_eq!(CaptainCommand::parse("#blockparty at 7!"), None);
        assert_eq!(CaptainCommand::parse("approve 12"), None);
    }
}
