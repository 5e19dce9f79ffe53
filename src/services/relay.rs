//! A group message reaches every shard: Twilio delivers it in the Conversation it was written
//! in, and the service copies it (a relay) into each of the others. This decides who each copy
//! reaches, which is also what the cost ledger charges.

use uuid::Uuid;

use crate::domain::channel::Channel;
use crate::domain::media::MediaItem;
use crate::domain::member::{MemberStatus, Placed};
use crate::domain::neighborhood::Neighborhood;
use crate::store::outbox::Effect;

/// The members a shard delivers a group message to: everyone placed in it (a member whose
/// removal is still on its way is still there), but the author and phones that texted STOP
/// (Twilio refuses those deliveries, and bills no segment for them).
pub fn recipients<M: Placed>(
    members: &[M],
    conversation_sid: &str,
    author: Option<Uuid>,
) -> Vec<Uuid> {
    members
        .iter()
        .filter(|member| reached_in(*member, conversation_sid, author))
        .map(Placed::member_id)
        .collect()
}

/// Whether a message in `conversation_sid` (by `author`, if a member) reaches `member`.
fn reached_in<M: Placed>(member: &M, conversation_sid: &str, author: Option<Uuid>) -> bool {
    member.conversation_sid() == Some(conversation_sid)
        && member.status() != MemberStatus::OptedOut
        && Some(member.member_id()) != author
}

/// [`recipients`] in one shard, nobody excluded, split into (on WhatsApp, on SMS) as they are
/// found: a message makes one such split per shard.
fn recipients_by_channel<M: Placed>(
    members: &[M],
    conversation_sid: &str,
) -> (Vec<Uuid>, Vec<Uuid>) {
    let (mut on_whatsapp, mut on_sms) = (Vec::new(), Vec::new());
    for member in members
        .iter()
        .filter(|member| reached_in(*member, conversation_sid, None))
    {
        match member.channel() {
            Channel::Whatsapp => on_whatsapp.push(member.member_id()),
            Channel::Sms => on_sms.push(member.member_id()),
        }
    }
    (on_whatsapp, on_sms)
}

/// A message to copy into the other shards.
pub struct Original<'a> {
    /// Who the copies are posted as (`system` for ours).
    pub author: &'a str,
    /// The text, signed with the writer's name.
    pub body: &'a str,
    pub message_sid: &'a str,
    /// The shard it was written in, where Twilio delivers it itself.
    pub written_in: Option<&'a str>,
    pub media: &'a [MediaItem],
    pub chat_service_sid: Option<&'a str>,
}

impl<'a> Original<'a> {
    /// A text of ours, with no pictures, written in no shard.
    pub fn text(author: &'a str, body: &'a str, message_sid: &'a str) -> Self {
        Self {
            author,
            body,
            message_sid,
            written_in: None,
            media: &[],
            chat_service_sid: None,
        }
    }
}

/// The copies of a group message into the neighborhood's shards (all but the one it was written
/// in), each knowing whom it reaches.
pub fn relays<M: Placed>(
    neighborhood: &Neighborhood,
    members: &[M],
    original: &Original<'_>,
) -> Vec<Effect> {
    neighborhood
        .shards
        .iter()
        .filter(|shard| Some(shard.conversation_sid.as_str()) != original.written_in)
        .map(|shard| {
            let (whatsapp_recipients, recipients) =
                recipients_by_channel(members, &shard.conversation_sid);
            Effect::Relay {
                conversation_sid: shard.conversation_sid.clone(),
                author: original.author.to_owned(),
                body: original.body.to_owned(),
                source_message_sid: original.message_sid.to_owned(),
                recipients,
                whatsapp_recipients,
                media: original.media.to_vec(),
                chat_service_sid: original.chat_service_sid.map(str::to_owned),
            }
        })
        .collect()
}

/// `ids` split into (those on WhatsApp, those on SMS). The WhatsApp members are gathered once,
/// rather than each id looked up among all the members (quadratic in a big neighborhood).
pub fn by_channel<M: Placed>(members: &[M], ids: Vec<Uuid>) -> (Vec<Uuid>, Vec<Uuid>) {
    let on_whatsapp: std::collections::HashSet<Uuid> = members
        .iter()
        .filter(|member| member.channel() == Channel::Whatsapp)
        .map(Placed::member_id)
        .collect();
    ids.into_iter().partition(|id| on_whatsapp.contains(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::{DisplayName, Member, Participant, Role};
    use crate::domain::phone::Phone;

    fn placed(phone: &str, shard: Option<&str>, status: MemberStatus) -> Member {
        let mut member = Member::joining(
            Uuid::nil(),
            Phone::parse(phone).unwrap(),
            DisplayName::parse(phone).unwrap(),
            Role::Member,
        );
        member.status = status;
        member.participant = shard.map(|sid| Participant {
            conversation_sid: sid.to_owned(),
            participant_sid: format!("MB{phone}"),
        });
        member
    }

    #[test]
    fn a_shard_delivers_to_its_participants_but_the_author_and_opted_out_phones() {
        let author = placed("+15550001001", Some("CH1"), MemberStatus::Active);
        let members = [
            author.clone(),
            placed("+15550001002", Some("CH1"), MemberStatus::Active),
            // Left, but the removal has not reached Twilio yet: still delivered to.
            placed("+15550001003", Some("CH1"), MemberStatus::Left),
            placed("+15550001004", Some("CH1"), MemberStatus::OptedOut),
            placed("+15550001005", Some("CH2"), MemberStatus::Active),
            placed("+15550001006", None, MemberStatus::Active),
        ];
        let ids = |indexes: &[usize]| indexes.iter().map(|&i| members[i].id).collect::<Vec<_>>();
        assert_eq!(recipients(&members, "CH1", Some(author.id)), ids(&[1, 2]));
        assert_eq!(recipients(&members, "CH1", None), ids(&[0, 1, 2]));
        assert_eq!(recipients(&members, "CH2", Some(author.id)), ids(&[4]));
    }
}
