//! Typed commands: an [`Action`] with its arguments, as the palette (and any
//! other text front end) gives them: `set status resolved`, `assign me`,
//! `sort priority desc`, `view Mine`, `filter op:none cat:billing`.
//!
//! One table, [`verbs`], says which phrases exist, what argument each takes
//! and which key runs the same thing; parsing and completion both read it,
//! and so does the palette's list. Everything here is pure: names are
//! checked against the backend's [`Meta`] and the saved views, nothing runs.

use deskterm_api::{Meta, OperatorId, Priority, Sort, SortField};

use super::action::Action;
use super::list::column_title;
use crate::query::lang::{self, Query};

/// What a command argument names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// No argument.
    None,
    /// A status, by key or label.
    Status,
    /// A priority.
    Priority,
    /// An operator by name, `me`, or `none`.
    Operator,
    /// A category name (a new one is created).
    Category,
    /// A tag.
    Tag,
    /// A column, then optionally `asc` or `desc`.
    Sort,
    /// A saved view, by name or number.
    View,
    /// A query in the query language.
    Query,
}

impl Arg {
    /// How the argument is shown in the palette.
    pub fn placeholder(self) -> &'static str {
        match self {
            Arg::None => "",
            Arg::Status => "‹status›",
            Arg::Priority => "‹priority›",
            Arg::Operator => "‹operator|me|none›",
            Arg::Category => "‹category›",
            Arg::Tag => "‹tag›",
            Arg::Sort => "‹column› [asc|desc]",
            Arg::View => "‹view›",
            Arg::Query => "‹query›",
        }
    }
}

/// One phrase of the command language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verb {
    /// The words that name it, lower case, one space apart.
    pub phrase: String,
    /// What follows the phrase.
    pub arg: Arg,
    /// The action whose key is shown beside it (and that it runs, without argument).
    pub action: Option<Action>,
    /// One line for the palette.
    pub about: &'static str,
}

/// A change to the targeted tickets (the marked ones, or the selected one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketOp {
    /// Set the status (a key).
    Status(String),
    /// Set the priority.
    Priority(Priority),
    /// Assign, or unassign with `None`.
    Operator(Option<OperatorId>),
    /// Set the category, or clear it with `None`.
    Category(Option<String>),
    /// Add a tag.
    AddTag(String),
    /// Remove a tag.
    RemoveTag(String),
}

/// A command with its arguments, checked and ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// An action that takes no argument.
    Run(Action),
    /// Change the targeted tickets.
    Ticket(TicketOp),
    /// Sort the list.
    Sort(Sort),
    /// Switch to a saved view (by position).
    View(usize),
    /// Replace the list's query.
    Filter(Query),
}

/// Phrases that change tickets, with the key of the picker that does the same.
const ARG_VERBS: &[(&str, Arg, Option<Action>, &str)] = &[
    (
        "set status",
        Arg::Status,
        Some(Action::EditStatus),
        "set the status of the marked tickets (or the selected one)",
    ),
    (
        "set priority",
        Arg::Priority,
        Some(Action::EditPriority),
        "set the priority of the marked tickets (or the selected one)",
    ),
    (
        "assign",
        Arg::Operator,
        Some(Action::EditOperator),
        "assign the marked tickets (or the selected one)",
    ),
    (
        "set category",
        Arg::Category,
        Some(Action::EditCategory),
        "set the category of the marked tickets (or the selected one)",
    ),
    (
        "tag",
        Arg::Tag,
        None,
        "add a tag to the marked tickets (or the selected one)",
    ),
    (
        "untag",
        Arg::Tag,
        None,
        "remove a tag from the marked tickets (or the selected one)",
    ),
    (
        "sort",
        Arg::Sort,
        Some(Action::Sort),
        "sort the list by a column",
    ),
    (
        "view",
        Arg::View,
        Some(Action::Views),
        "switch to a saved view",
    ),
    (
        "filter",
        Arg::Query,
        Some(Action::Search),
        "list only what matches a query",
    ),
];

/// Whether an action makes sense typed in the palette: not the keys that
/// only work inside a popup, nor plain motions, nor the numbered views
/// (`view ‹name›` covers them).
fn typed(action: Action) -> bool {
    let motion = matches!(
        action,
        Action::Down
            | Action::Up
            | Action::Top
            | Action::Bottom
            | Action::PageDown
            | Action::PageUp
    );
    !motion && !action.popup_only() && action != Action::Palette && action.view_index().is_none()
}

/// Every phrase: the actions without argument, by name (`assign to me`),
/// then the ones with an argument.
pub fn verbs() -> Vec<Verb> {
    let plain = Action::ALL
        .iter()
        .copied()
        .filter(|a| typed(*a))
        .map(|a| Verb {
            phrase: a.name().replace('_', " "),
            arg: Arg::None,
            action: Some(a),
            about: a.about(),
        });
    let with_arg = ARG_VERBS.iter().map(|(phrase, arg, action, about)| Verb {
        phrase: (*phrase).to_owned(),
        arg: *arg,
        action: *action,
        about,
    });
    plain.chain(with_arg).collect()
}

/// What the names in a command are checked against.
#[derive(Debug, Clone)]
pub struct Names<'a> {
    /// Statuses, priorities, operators, categories, tags.
    pub meta: Option<&'a Meta>,
    /// The signed-in operator.
    pub me: Option<OperatorId>,
    /// Saved view names, in number-key order.
    pub views: Vec<&'a str>,
}

/// Splits `text` into the phrase it starts with and the rest: the longest
/// phrase wins (`assign to me` over `assign`); with an argument, a phrase
/// that takes one wins over the same phrase without (`sort updated`).
pub fn split<'v, 't>(verbs: &'v [Verb], text: &'t str) -> Option<(&'v Verb, &'t str)> {
    let text = text.trim_start();
    let mut best: Option<(&Verb, &str)> = None;
    for verb in verbs {
        let Some(rest) = strip_phrase(text, &verb.phrase) else {
            continue;
        };
        let rest = rest.trim();
        let fits = (verb.arg == Arg::None) == rest.is_empty();
        let better = match best {
            None => true,
            Some((b, b_rest)) => {
                let b_fits = (b.arg == Arg::None) == b_rest.is_empty();
                (verb.phrase.len(), fits) > (b.phrase.len(), b_fits)
            }
        };
        if better {
            best = Some((verb, rest));
        }
    }
    best
}

/// `text` without the leading `phrase` (words compared without case, any
/// run of spaces between them), when it starts with it as whole words.
fn strip_phrase<'t>(text: &'t str, phrase: &str) -> Option<&'t str> {
    let mut rest = text;
    for word in phrase.split(' ') {
        rest = rest.trim_start();
        let head = rest.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        rest = &rest[word.len()..];
        if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
            return None;
        }
    }
    Some(rest)
}

/// Parses a typed command; the error says what is wrong, for the operator.
pub fn parse(text: &str, names: &Names<'_>) -> Result<Command, String> {
    let verbs = verbs();
    let Some((verb, arg)) = split(&verbs, text) else {
        let text = text.trim();
        return Err(if text.is_empty() {
            "type a command".into()
        } else {
            format!("no command {text:?}")
        });
    };
    if verb.arg == Arg::None {
        if !arg.is_empty() {
            return Err(format!("{} takes no argument", verb.phrase));
        }
        return match verb.action {
            Some(action) => Ok(Command::Run(action)),
            None => Err(format!("{} cannot be run", verb.phrase)),
        };
    }
    if arg.is_empty() {
        return Err(format!("{} needs {}", verb.phrase, verb.arg.placeholder()));
    }
    let ticket_op = |op| Ok(Command::Ticket(op));
    match verb.arg {
        Arg::None => Err(format!("{} takes no argument", verb.phrase)),
        Arg::Status => ticket_op(TicketOp::Status(status(arg, names.meta)?)),
        Arg::Priority => ticket_op(TicketOp::Priority(priority(arg)?)),
        Arg::Operator => ticket_op(TicketOp::Operator(operator(arg, names)?)),
        Arg::Category => ticket_op(TicketOp::Category(Some(category(arg, names.meta)))),
        Arg::Tag => {
            let tag = tag(arg)?;
            ticket_op(if verb.phrase == "untag" {
                TicketOp::RemoveTag(tag)
            } else {
                TicketOp::AddTag(tag)
            })
        }
        Arg::Sort => sort(arg).map(Command::Sort),
        Arg::View => view(arg, &names.views).map(Command::View),
        Arg::Query => lang::parse(arg)
            .map(Command::Filter)
            .map_err(|e| e.to_string()),
    }
}

fn status(arg: &str, meta: Option<&Meta>) -> Result<String, String> {
    let meta = meta.ok_or("still loading the statuses")?;
    meta.statuses
        .iter()
        .find(|s| s.key.eq_ignore_ascii_case(arg) || s.label.to_lowercase() == arg.to_lowercase())
        .map(|s| s.key.clone())
        .ok_or_else(|| {
            let known: Vec<&str> = meta.statuses.iter().map(|s| s.key.as_str()).collect();
            format!("no status {arg:?} (statuses: {})", known.join(", "))
        })
}

fn priority(arg: &str) -> Result<Priority, String> {
    arg.to_lowercase().parse::<Priority>().map_err(|_| {
        let known: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
        format!("no priority {arg:?} (priorities: {})", known.join(", "))
    })
}

fn operator(arg: &str, names: &Names<'_>) -> Result<Option<OperatorId>, String> {
    let lower = arg.to_lowercase();
    match lower.as_str() {
        "me" => return names.me.map(Some).ok_or_else(|| "not signed in yet".into()),
        "none" | "nobody" | "unassigned" => return Ok(None),
        _ => {}
    }
    let meta = names.meta.ok_or("still loading the operators")?;
    if let Some(o) = meta
        .operators
        .iter()
        .find(|o| o.name.to_lowercase() == lower)
    {
        return Ok(Some(o.id));
    }
    let starting: Vec<_> = meta
        .operators
        .iter()
        .filter(|o| o.name.to_lowercase().starts_with(&lower))
        .collect();
    match starting.as_slice() {
        [one] => Ok(Some(one.id)),
        [] => Err(format!("no operator {arg:?}")),
        many => Err(format!(
            "{arg:?} could be {}",
            many.iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A category as typed; an existing one keeps its spelling.
fn category(arg: &str, meta: Option<&Meta>) -> String {
    meta.and_then(|m| {
        m.categories
            .iter()
            .find(|c| c.name.to_lowercase() == arg.to_lowercase())
    })
    .map(|c| c.name.clone())
    .unwrap_or_else(|| arg.to_owned())
}

fn tag(arg: &str) -> Result<String, String> {
    if arg.split_whitespace().count() != 1 {
        return Err(format!("a tag is one word, not {arg:?}"));
    }
    Ok(arg.to_owned())
}

fn sort(arg: &str) -> Result<Sort, String> {
    let mut words: Vec<&str> = arg.split_whitespace().collect();
    let descending = match words.last().map(|w| w.to_lowercase()) {
        Some(w) if w == "desc" => Some(true),
        Some(w) if w == "asc" => Some(false),
        _ => None,
    };
    if descending.is_some() {
        words.pop();
    }
    let column = words.join(" ").to_lowercase();
    let field = SortField::ALL
        .into_iter()
        .find(|f| f.as_str() == column || column_title(*f).to_lowercase() == column)
        .ok_or_else(|| {
            let known: Vec<&str> = SortField::ALL.iter().map(|f| f.as_str()).collect();
            format!("no column {column:?} (columns: {})", known.join(", "))
        })?;
    // Newest, most urgent first unless told otherwise.
    let descending = descending.unwrap_or(matches!(
        field,
        SortField::Priority | SortField::Updated | SortField::Created
    ));
    Ok(Sort { field, descending })
}

fn view(arg: &str, views: &[&str]) -> Result<usize, String> {
    if let Ok(n) = arg.parse::<usize>()
        && (1..=views.len()).contains(&n)
    {
        return Ok(n - 1);
    }
    views
        .iter()
        .position(|v| v.to_lowercase() == arg.to_lowercase())
        .ok_or_else(|| format!("no view {arg:?} (views: {})", views.join(", ")))
}

/// The values an argument can take, for completion.
pub fn values(arg: Arg, names: &Names<'_>) -> Vec<String> {
    let meta = names.meta;
    match arg {
        Arg::None | Arg::Query => Vec::new(),
        Arg::Status => meta
            .map(|m| m.statuses.iter().map(|s| s.key.clone()).collect())
            .unwrap_or_default(),
        Arg::Priority => Priority::ALL
            .iter()
            .rev()
            .map(|p| p.as_str().to_owned())
            .collect(),
        Arg::Operator => ["me", "none"]
            .into_iter()
            .map(str::to_owned)
            .chain(
                meta.into_iter()
                    .flat_map(|m| m.operators.iter().map(|o| o.name.clone())),
            )
            .collect(),
        Arg::Category => meta
            .map(|m| m.categories.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default(),
        Arg::Tag => meta.map(|m| m.tags.clone()).unwrap_or_default(),
        Arg::Sort => SortField::ALL
            .iter()
            .flat_map(|f| {
                let name = f.as_str();
                [
                    name.to_owned(),
                    format!("{name} asc"),
                    format!("{name} desc"),
                ]
            })
            .collect(),
        Arg::View => names.views.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// One line of the palette's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What the field holds once this line is taken.
    pub text: String,
    /// What the line shows on the left.
    pub label: String,
    /// The action whose key is shown on the right.
    pub action: Option<Action>,
    /// What it does.
    pub about: &'static str,
}

/// The palette's list for what is typed so far: phrases matched fuzzily
/// while the phrase is being typed; once a phrase taking an argument is
/// followed by a space, its values matched against the argument so far.
pub fn candidates(text: &str, names: &Names<'_>) -> Vec<Candidate> {
    let verbs = verbs();
    // An argument is being typed once the phrase is followed by a space.
    let with_arg = verbs
        .iter()
        .filter(|v| v.arg != Arg::None)
        .filter_map(|v| {
            let rest = strip_phrase(text.trim_start(), &v.phrase)?;
            rest.starts_with(char::is_whitespace)
                .then_some((v, rest.trim_start()))
        })
        .max_by_key(|(v, _)| v.phrase.len());
    if let Some((verb, typed)) = with_arg {
        let values = values(verb.arg, names);
        return rank(typed, &values, |v| v.as_str())
            .into_iter()
            .map(|value| Candidate {
                text: format!("{} {value}", verb.phrase),
                label: format!("{} {value}", verb.phrase),
                action: verb.action,
                about: verb.about,
            })
            .collect();
    }
    rank(text.trim(), &verbs, |v| v.phrase.as_str())
        .into_iter()
        .map(|verb| Candidate {
            text: if verb.arg == Arg::None {
                verb.phrase.clone()
            } else {
                format!("{} ", verb.phrase)
            },
            label: format!("{} {}", verb.phrase, verb.arg.placeholder())
                .trim_end()
                .to_owned(),
            action: verb.action,
            about: verb.about,
        })
        .collect()
}

/// The items `pattern` matches fuzzily, best first (all, in order, for an
/// empty pattern).
fn rank<'a, T>(pattern: &str, items: &'a [T], key: impl Fn(&T) -> &str) -> Vec<&'a T> {
    use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
    use nucleo_matcher::{Config, Matcher, Utf32Str};
    if pattern.trim().is_empty() {
        return items.iter().collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(pattern, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize, &T)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let haystack = Utf32Str::new(key(item), &mut buf);
            pattern
                .score(haystack, &mut matcher)
                .map(|score| (score, i, item))
        })
        .collect();
    // Best score first; the table's order among equals.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture;

    fn names<'a>(meta: &'a Meta, views: &[&'a str]) -> Names<'a> {
        Names {
            meta: Some(meta),
            me: Some(1),
            views: views.to_vec(),
        }
    }

    #[test]
    fn phrases_are_unique_and_every_typed_action_has_one() {
        let verbs = verbs();
        let mut seen = std::collections::HashSet::new();
        for v in &verbs {
            assert!(
                seen.insert((v.phrase.clone(), v.arg == Arg::None)),
                "twice: {}",
                v.phrase
            );
        }
        assert!(verbs.iter().any(|v| v.phrase == "assign to me"));
        assert!(!verbs.iter().any(|v| v.phrase == "view 1"));
    }

    #[test]
    fn commands_parse_with_their_arguments() {
        let meta = fixture::meta();
        let views = ["Mine", "All open"];
        let n = &names(&meta, &views);
        let status = meta.statuses[1].clone();
        assert_eq!(
            parse(&format!("set status {}", status.label.to_uppercase()), n),
            Ok(Command::Ticket(TicketOp::Status(status.key.clone())))
        );
        assert_eq!(
            parse("  SET   priority   high ", n),
            Ok(Command::Ticket(TicketOp::Priority(Priority::High)))
        );
        assert_eq!(
            parse("assign me", n),
            Ok(Command::Ticket(TicketOp::Operator(Some(1))))
        );
        assert_eq!(
            parse("assign to me", n),
            Ok(Command::Run(Action::AssignToMe))
        );
        assert_eq!(
            parse("assign none", n),
            Ok(Command::Ticket(TicketOp::Operator(None)))
        );
        let other = &meta.operators[1];
        let first = other.name.split(' ').next().unwrap_or_default();
        assert_eq!(
            parse(&format!("assign {}", first.to_lowercase()), n),
            Ok(Command::Ticket(TicketOp::Operator(Some(other.id))))
        );
        assert_eq!(
            parse("sort priority", n),
            Ok(Command::Sort(Sort {
                field: SortField::Priority,
                descending: true
            }))
        );
        assert_eq!(
            parse("sort title desc", n),
            Ok(Command::Sort(Sort {
                field: SortField::Title,
                descending: true
            }))
        );
        assert_eq!(parse("sort", n), Ok(Command::Run(Action::Sort)));
        assert_eq!(parse("view all OPEN", n), Ok(Command::View(1)));
        assert_eq!(parse("view 1", n), Ok(Command::View(0)));
        assert_eq!(
            parse("tag vip", n),
            Ok(Command::Ticket(TicketOp::AddTag("vip".into())))
        );
        assert_eq!(
            parse("untag vip", n),
            Ok(Command::Ticket(TicketOp::RemoveTag("vip".into())))
        );
        assert!(matches!(parse("filter op:none", n), Ok(Command::Filter(_))));
        assert_eq!(parse("quit", n), Ok(Command::Run(Action::Quit)));
    }

    #[test]
    fn bad_commands_say_what_is_wrong() {
        let meta = fixture::meta();
        let n = &names(&meta, &[]);
        let err = |t: &str| parse(t, n).unwrap_err();
        assert!(err("set status nonsense").contains("statuses:"));
        assert!(err("set status").contains("‹status›"));
        assert!(err("set priority extreme").contains("urgent"));
        assert!(err("assign Nobody Known").contains("no operator"));
        assert!(err("tag two words").contains("one word"));
        assert!(err("sort colour").contains("columns:"));
        assert!(err("view Mine").contains("no view"));
        assert!(err("quit now").contains("no argument"));
        assert!(err("launch rockets").contains("no command"));
        assert!(err("filter status:").contains("status"));
        assert!(err("statusfoo").contains("no command"), "whole words only");
    }

    #[test]
    fn completion_offers_phrases_then_values() {
        let meta = fixture::meta();
        let views = ["Mine"];
        let n = &names(&meta, &views);
        let first = candidates("setst", n);
        assert_eq!(first.first().map(|c| c.text.as_str()), Some("set status "));
        assert_eq!(
            first.first().map(|c| c.label.as_str()),
            Some("set status ‹status›")
        );
        let values = candidates("set status ", n);
        assert_eq!(values.len(), meta.statuses.len());
        let key = &meta.statuses[2].key;
        let narrowed = candidates(&format!("set status {}", &key[..3]), n);
        assert_eq!(
            narrowed.first().map(|c| c.text.clone()),
            Some(format!("set status {key}"))
        );
        for c in &narrowed {
            assert!(
                parse(&c.text, n).is_ok(),
                "a completed value parses: {}",
                c.text
            );
        }
        assert!(
            candidates("assign ", n)
                .iter()
                .any(|c| c.text == "assign me")
        );
        assert_eq!(
            candidates("view ", n).first().map(|c| c.text.as_str()),
            Some("view Mine")
        );
        assert_eq!(candidates("", n).len(), verbs().len());
        assert!(candidates("zzzzqqq", n).is_empty());
    }
}
