//! The field rules of tickets, notes and messages that need no database:
//! trimming, required values and length limits. Each check reports into a
//! [`FieldErrors`] under the wire name of the field.

use chrono::{DateTime, Utc};
use deskterm_api::{BODY_MAX_CHARS, TITLE_MAX_CHARS};

use crate::problem::FieldErrors;
use crate::text::{chars, non_blank};
use crate::time;

/// Longest manual reference, in characters.
pub(crate) const REFERENCE_MAX_CHARS: usize = 32;
/// Longest category name, in characters.
pub(crate) const CATEGORY_MAX_CHARS: usize = 64;
/// Longest tag, in characters.
pub(crate) const TAG_MAX_CHARS: usize = 64;
/// Most tags on one ticket.
pub(crate) const TAGS_MAX: usize = 50;
/// Longest channel name, in characters.
pub(crate) const CHANNEL_MAX_CHARS: usize = 32;
/// Longest contact name, phone or e-mail, in characters.
pub(crate) const CONTACT_FIELD_MAX_CHARS: usize = 200;
/// Longest status label, in characters.
pub(crate) const STATUS_LABEL_MAX_CHARS: usize = 64;
/// Longest status key, in characters.
pub(crate) const STATUS_KEY_MAX_CHARS: usize = 32;
/// The channel of a ticket or message when nothing says otherwise.
pub(crate) const DEFAULT_CHANNEL: &str = "phone";

/// A title: trimmed, required, bounded.
pub(crate) fn title(raw: &str, errors: &mut FieldErrors) -> String {
    let title = raw.trim();
    if title.is_empty() {
        errors.add("title", "the title is required");
    } else if chars(title) > TITLE_MAX_CHARS {
        errors.add(
            "title",
            format!("the title is longer than {TITLE_MAX_CHARS} characters"),
        );
    }
    title.to_owned()
}

/// A description: kept as typed (line breaks matter), bounded.
pub(crate) fn description(raw: &str, errors: &mut FieldErrors) -> String {
    if chars(raw) > BODY_MAX_CHARS {
        errors.add(
            "description",
            format!("the description is longer than {BODY_MAX_CHARS} characters"),
        );
    }
    raw.to_owned()
}

/// The body of a note or message: trimmed, required, bounded.
pub(crate) fn body(raw: &str, errors: &mut FieldErrors) -> String {
    let body = raw.trim();
    if body.is_empty() {
        errors.add("body", "the text is required");
    } else if chars(body) > BODY_MAX_CHARS {
        errors.add(
            "body",
            format!("the text is longer than {BODY_MAX_CHARS} characters"),
        );
    }
    body.to_owned()
}

/// Tags: trimmed, blanks and repeats dropped, each and all bounded.
pub(crate) fn tags(raw: &[String], errors: &mut FieldErrors) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if chars(tag) > TAG_MAX_CHARS {
            errors.add(
                "tags",
                format!("a tag is longer than {TAG_MAX_CHARS} characters"),
            );
        } else if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    if tags.len() > TAGS_MAX {
        errors.add("tags", format!("more than {TAGS_MAX} tags"));
    }
    tags
}

/// A channel name: trimmed, required, bounded, no control characters.
pub(crate) fn channel(raw: &str, field: &str, errors: &mut FieldErrors) -> String {
    let channel = raw.trim();
    if channel.is_empty() {
        errors.add(field, "the channel is required");
    } else if chars(channel) > CHANNEL_MAX_CHARS || channel.chars().any(char::is_control) {
        errors.add(
            field,
            format!("a channel is a word of at most {CHANNEL_MAX_CHARS} characters"),
        );
    }
    channel.to_owned()
}

/// A category name: trimmed, bounded; blank means none.
pub(crate) fn category(raw: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let name = non_blank(raw)?;
    if chars(&name) > CATEGORY_MAX_CHARS {
        errors.add(
            "category",
            format!("the category is longer than {CATEGORY_MAX_CHARS} characters"),
        );
    }
    Some(name)
}

/// A manual reference: trimmed, non-empty, bounded.
pub(crate) fn reference(raw: &str, errors: &mut FieldErrors) -> String {
    let reference = raw.trim();
    if reference.is_empty() {
        errors.add(
            "reference",
            "the reference is empty; leave it out to have one generated",
        );
    } else if chars(reference) > REFERENCE_MAX_CHARS || reference.chars().any(char::is_control) {
        errors.add(
            "reference",
            format!("the reference is longer than {REFERENCE_MAX_CHARS} characters"),
        );
    }
    reference.to_owned()
}

/// An SLA due time the database can keep in order.
pub(crate) fn sla_due_at(
    raw: Option<DateTime<Utc>>,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    let due = raw?;
    if !time::storable(due) {
        errors.add(
            "sla_due_at",
            "the SLA due time must fall in years 0 to 9999",
        );
    }
    Some(due)
}

/// A time a ticket waits until, which the database can keep in order.
pub(crate) fn pending_until(
    raw: Option<DateTime<Utc>>,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    let until = raw?;
    if !time::storable(until) {
        errors.add("pending_until", "the time must fall in years 0 to 9999");
    }
    Some(until)
}

/// An optional contact field (phone, e-mail, channel): trimmed, bounded; blank means none.
pub(crate) fn contact_field(
    raw: Option<&str>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = non_blank(raw)?;
    if chars(&value) > CONTACT_FIELD_MAX_CHARS {
        errors.add(
            field,
            format!("longer than {CONTACT_FIELD_MAX_CHARS} characters"),
        );
    }
    if field == "email" && !value.contains('@') {
        errors.add(field, "not an e-mail address");
    }
    Some(value)
}

/// A contact that passed validation: trimmed name, cleaned phone, e-mail and channel.
pub(crate) struct ValidContact {
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) channel: Option<String>,
}

/// Checks a new contact: the name is required and bounded, like every
/// contact field; a blank channel means none.
pub(crate) fn contact(new: &deskterm_api::NewContact, errors: &mut FieldErrors) -> ValidContact {
    let name = new.name.trim().to_owned();
    if name.is_empty() {
        errors.add("name", "the name is required");
    } else if chars(&name) > CONTACT_FIELD_MAX_CHARS {
        errors.add(
            "name",
            format!("the name is longer than {CONTACT_FIELD_MAX_CHARS} characters"),
        );
    }
    ValidContact {
        name,
        phone: contact_field(new.phone.as_deref(), "phone", errors),
        email: contact_field(new.email.as_deref(), "email", errors),
        channel: non_blank(new.channel.as_deref()).map(|c| channel(&c, "channel", errors)),
    }
}

/// Most addresses one escalation goes to.
pub(crate) const ESCALATION_MAX_RECIPIENTS: usize = 20;
/// Longest escalation note, in characters.
pub(crate) const ESCALATION_NOTE_MAX_CHARS: usize = 4000;

/// The addresses of an escalation: each an e-mail address (a bare one,
/// `name@domain`), repeats dropped in any case, 1 to
/// [`ESCALATION_MAX_RECIPIENTS`]. Errors name the field `to`.
pub(crate) fn escalation_recipients(raw: &[String], errors: &mut FieldErrors) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for address in raw {
        let address = address.trim();
        match address.parse::<lettre::Address>() {
            Ok(parsed) => {
                let parsed = parsed.to_string();
                if !out.iter().any(|a| a.eq_ignore_ascii_case(&parsed)) {
                    out.push(parsed);
                }
            }
            Err(_) => {
                errors.add(
                    "to",
                    format!("{:?} is not an e-mail address", excerpt(address)),
                );
                return out;
            }
        }
    }
    if out.is_empty() {
        errors.add("to", "at least one e-mail address is required");
    } else if out.len() > ESCALATION_MAX_RECIPIENTS {
        errors.add(
            "to",
            format!("at most {ESCALATION_MAX_RECIPIENTS} addresses"),
        );
    }
    out
}

/// The first characters of a value, for an error message.
fn excerpt(text: &str) -> String {
    text.chars().take(80).collect()
}

/// An escalation's note: trimmed, blank means none, bounded.
pub(crate) fn escalation_note(raw: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let note = non_blank(raw)?;
    if chars(&note) > ESCALATION_NOTE_MAX_CHARS {
        errors.add(
            "note",
            format!("the note is longer than {ESCALATION_NOTE_MAX_CHARS} characters"),
        );
    }
    Some(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalation_recipients_are_addresses_without_repeats() {
        let mut e = FieldErrors::default();
        let to = escalation_recipients(
            &[
                " vendor@example.com ".into(),
                "VENDOR@example.com".into(),
                "b@example.org".into(),
            ],
            &mut e,
        );
        assert!(e.check().is_ok());
        assert_eq!(to, ["vendor@example.com", "b@example.org"]);
        for bad in [
            vec![],
            vec!["not an address".to_owned()],
            vec!["a@example.com\r\nBcc: x@evil.example".to_owned()],
            vec!["Ana <ana@example.com>".to_owned()],
            (0..21).map(|i| format!("p{i}@example.com")).collect(),
        ] {
            let mut e = FieldErrors::default();
            escalation_recipients(&bad, &mut e);
            assert!(e.has("to"), "{bad:?}");
        }
        let mut e = FieldErrors::default();
        escalation_note(Some(&"x".repeat(ESCALATION_NOTE_MAX_CHARS + 1)), &mut e);
        assert!(e.has("note"));
    }

    #[test]
    fn titles() {
        let mut e = FieldErrors::default();
        assert_eq!(title("  Printer jam ", &mut e), "Printer jam");
        assert!(e.check().is_ok());
        for bad in ["", "   \t", &"x".repeat(TITLE_MAX_CHARS + 1)] {
            let mut e = FieldErrors::default();
            title(bad, &mut e);
            assert!(e.has("title"), "{bad:?}");
        }
        let mut e = FieldErrors::default();
        title(&"é".repeat(TITLE_MAX_CHARS), &mut e);
        assert!(!e.has("title"), "the limit counts characters, not bytes");
    }

    #[test]
    fn tags_are_cleaned() {
        let mut e = FieldErrors::default();
        let raw = vec![
            " vip ".to_owned(),
            "".to_owned(),
            "vip".to_owned(),
            "b".to_owned(),
        ];
        assert_eq!(tags(&raw, &mut e), vec!["vip", "b"]);
        assert!(e.check().is_ok());
    }

    #[test]
    fn references_and_categories() {
        let mut e = FieldErrors::default();
        assert_eq!(reference(" R-1 ", &mut e), "R-1");
        assert_eq!(category(Some("  "), &mut e), None);
        assert_eq!(
            category(Some(" Soporte "), &mut e),
            Some("Soporte".to_owned())
        );
        assert!(e.check().is_ok());
        let mut e = FieldErrors::default();
        reference(" ", &mut e);
        assert!(e.has("reference"));
    }
}
