//! Who each phone is, by name, across every active neighborhood: the sandbox's simulated phones
//! page shows "Priya Shah" beside +1 415 555 0142, so a tester finds Priya's phone among hundreds.

use std::collections::{BTreeSet, HashMap};

use crate::domain::neighborhood::NeighborhoodState;
use crate::store::{Store, StoreError};

/// Neighborhoods read per step.
const PAGE: usize = 100;

/// Address (an SMS member's phone, `whatsapp:` and the phone for a WhatsApp member) -> the names
/// its members go by, joined with " / " when it belongs to several neighborhoods under different
/// names.
pub async fn member_names(store: &Store) -> Result<HashMap<String, String>, StoreError> {
    let mut names: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut after = None;
    loop {
        let page = store
            .list_neighborhoods(NeighborhoodState::Active, after, PAGE)
            .await?;
        for neighborhood in &page {
            for member in store.members(neighborhood.id).await? {
                names
                    .entry(member.channel.address(&member.phone))
                    .or_default()
                    .insert(member.display_name.as_str().to_owned());
            }
        }
        if page.len() < PAGE {
            break;
        }
        after = page.last().map(|neighborhood| neighborhood.id);
    }
    Ok(names
        .into_iter()
        .map(|(phone, names)| (phone, names.into_iter().collect::<Vec<_>>().join(" / ")))
        .collect())
}
