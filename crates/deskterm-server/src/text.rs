//! Small text rules shared by the routes and the demo loader: case folding,
//! status keys derived from labels, phone numbers, ticket titles from chat text.

/// Case-folded text for sorting, searching and uniqueness. Unlike SQLite's
/// `LOWER`, this folds every script, not only ASCII.
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Length in characters, as the limits of the API count it.
pub(crate) fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A trimmed value, or `None` when only whitespace was given.
pub(crate) fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// A status key from a label: ASCII letters and digits lowercased, every
/// other run of characters one `_`, none at either end.
pub(crate) fn status_key_from_label(label: &str) -> String {
    let mut key = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    while key.ends_with('_') {
        key.pop();
    }
    key
}

/// Whether `key` is a well-formed status key.
pub(crate) fn is_status_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The digits of a phone number, so differently spaced numbers match.
pub(crate) fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// What a contact is found by in the contact picker.
pub(crate) fn contact_search(name: &str, phone: Option<&str>, email: Option<&str>) -> String {
    let mut search = fold(name);
    for part in [
        phone.map(str::to_owned),
        phone.map(phone_digits),
        email.map(fold),
    ]
    .into_iter()
    .flatten()
    {
        search.push('\n');
        search.push_str(&part);
    }
    search
}

/// A ticket title from the first characters of a customer's message, on one line.
pub(crate) fn title_from_body(body: &str, max_chars: usize) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line
        .chars()
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_labels() {
        assert_eq!(
            status_key_from_label("Waiting for parts"),
            "waiting_for_parts"
        );
        assert_eq!(
            status_key_from_label("  En espera (cliente) "),
            "en_espera_cliente"
        );
        assert_eq!(status_key_from_label("Añadido"), "a_adido");
        assert_eq!(status_key_from_label("¿?"), "");
        assert!(is_status_key("waiting_parts"));
        assert!(!is_status_key("Waiting"));
        assert!(!is_status_key(""));
    }

    #[test]
    fn folding_covers_more_than_ascii() {
        assert_eq!(fold("ÉLAN Ñandú"), "élan ñandú");
    }

    #[test]
    fn titles_are_one_line_and_bounded() {
        assert_eq!(
            title_from_body("  hola\n\nme  ayudas ", 60),
            "hola me ayudas"
        );
        assert_eq!(title_from_body(&"x".repeat(100), 60).len(), 60);
    }

    #[test]
    fn contact_search_holds_digits() {
        let s = contact_search("Carla", Some("+34 600 000 001"), Some("C@Example.com"));
        assert!(s.contains("34600000001"));
        assert!(s.contains("c@example.com"));
        assert!(s.contains("carla"));
    }

    #[test]
    fn blank_is_none() {
        assert_eq!(non_blank(Some("  ")), None);
        assert_eq!(non_blank(Some(" a ")), Some("a".to_owned()));
        assert_eq!(non_blank(None), None);
    }
}
