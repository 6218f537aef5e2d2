//! Reading and replacing one field of a query, for the pickers: the status
//! picker reads `status:` to tick its boxes and writes the new set back,
//! leaving every other term (and the user's order) alone.
//!
//! Only positive terms count as "the field": `-status:closed` is an
//! exclusion the pickers do not own, and setting `status:` keeps it.

use deskterm_api::Priority;

use super::ast::{Atom, CategoryValue, Field, OperatorValue, PriorityTest, Query, Term};

impl Query {
    /// The first positive term on `field`.
    pub fn get(&self, field: Field) -> Option<&Atom> {
        self.terms
            .iter()
            .find(|t| !t.negated && t.atom.field() == Some(field))
            .map(|t| &t.atom)
    }

    /// Replaces the positive terms on the atom's field with `atom`, where the
    /// first of them stood, or at the end. A phrase or a word is appended.
    pub fn set(&mut self, atom: Atom) {
        let Some(field) = atom.field() else {
            self.terms.push(Term::new(atom));
            return;
        };
        let at = self
            .terms
            .iter()
            .position(|t| !t.negated && t.atom.field() == Some(field));
        self.clear(field);
        let term = Term::new(atom);
        match at {
            Some(i) => self.terms.insert(i, term),
            None => self.terms.push(term),
        }
    }

    /// Removes the positive terms on `field`.
    pub fn clear(&mut self, field: Field) {
        self.terms
            .retain(|t| t.negated || t.atom.field() != Some(field));
    }

    /// Sets `field` to `atom`, or clears it when `values` is empty.
    fn set_list<T>(&mut self, field: Field, values: Vec<T>, atom: impl FnOnce(Vec<T>) -> Atom) {
        if values.is_empty() {
            self.clear(field);
        } else {
            self.set(atom(values));
        }
    }

    /// The values of `status:` (keys or labels as written); empty when unset.
    pub fn statuses(&self) -> &[String] {
        match self.get(Field::Status) {
            Some(Atom::Status(v)) => v,
            _ => &[],
        }
    }

    /// Sets `status:` to these keys; none clears it.
    pub fn set_statuses<S: Into<String>>(&mut self, keys: impl IntoIterator<Item = S>) {
        let keys = keys.into_iter().map(Into::into).collect();
        self.set_list(Field::Status, keys, Atom::Status);
    }

    /// The priorities `priority` selects, lowest first; empty when unset.
    pub fn priorities(&self) -> Vec<Priority> {
        match self.get(Field::Priority) {
            Some(Atom::Priority(p)) => {
                let mask = p.mask();
                Priority::ALL
                    .into_iter()
                    .filter(|q| mask & 1 << q.rank() != 0)
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Sets `priority:` to these priorities; none clears it.
    pub fn set_priorities(&mut self, priorities: impl IntoIterator<Item = Priority>) {
        let list = priorities.into_iter().collect();
        self.set_list(Field::Priority, list, |l| {
            Atom::Priority(PriorityTest::In(l))
        });
    }

    /// The values of `op:`; empty when unset.
    pub fn operators(&self) -> &[OperatorValue] {
        match self.get(Field::Operator) {
            Some(Atom::Operator(v)) => v,
            _ => &[],
        }
    }

    /// Sets `op:`; none clears it.
    pub fn set_operators(&mut self, values: impl IntoIterator<Item = OperatorValue>) {
        let list = values.into_iter().collect();
        self.set_list(Field::Operator, list, Atom::Operator);
    }

    /// The values of `cat:`; empty when unset.
    pub fn categories(&self) -> &[CategoryValue] {
        match self.get(Field::Category) {
            Some(Atom::Category(v)) => v,
            _ => &[],
        }
    }

    /// Sets `cat:`; none clears it.
    pub fn set_categories(&mut self, values: impl IntoIterator<Item = CategoryValue>) {
        let list = values.into_iter().collect();
        self.set_list(Field::Category, list, Atom::Category);
    }

    /// The values of `tag:`; empty when unset.
    pub fn tags(&self) -> &[String] {
        match self.get(Field::Tag) {
            Some(Atom::Tag(v)) => v,
            _ => &[],
        }
    }

    /// Sets `tag:`; none clears it.
    pub fn set_tags<S: Into<String>>(&mut self, tags: impl IntoIterator<Item = S>) {
        let list = tags.into_iter().map(Into::into).collect();
        self.set_list(Field::Tag, list, Atom::Tag);
    }

    /// The values of `channel:`; empty when unset.
    pub fn channels(&self) -> &[String] {
        match self.get(Field::Channel) {
            Some(Atom::Channel(v)) => v,
            _ => &[],
        }
    }

    /// Sets `channel:`; none clears it.
    pub fn set_channels<S: Into<String>>(&mut self, channels: impl IntoIterator<Item = S>) {
        let list = channels.into_iter().map(Into::into).collect();
        self.set_list(Field::Channel, list, Atom::Channel);
    }

    /// Whether the `important` flag is set.
    pub fn important(&self) -> bool {
        self.get(Field::Important).is_some()
    }

    /// Sets or clears the `important` flag.
    pub fn set_important(&mut self, on: bool) {
        if on {
            self.set(Atom::Important);
        } else {
            self.clear(Field::Important);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::lang::parse::parse;

    fn edited(text: &str, edit: impl FnOnce(&mut Query)) -> String {
        let mut q = parse(text).unwrap();
        edit(&mut q);
        q.to_string()
    }

    #[test]
    fn set_replaces_in_place_and_keeps_exclusions() {
        assert_eq!(
            edited("lote status:new -status:closed op:me status:open", |q| {
                q.set_statuses(["open", "pending"])
            }),
            "lote status:open,pending -status:closed op:me"
        );
        assert_eq!(
            edited("lote", |q| q.set_statuses(["waiting parts"])),
            "lote status:\"waiting parts\""
        );
        assert_eq!(
            edited("status:open lote", |q| q.set_statuses(Vec::<String>::new())),
            "lote"
        );
    }

    #[test]
    fn typed_getters_read_what_pickers_show() {
        let q = parse("priority>=high op:me,none cat:none,billing tag:vip channel:email important")
            .unwrap();
        assert_eq!(q.priorities(), vec![Priority::High, Priority::Urgent]);
        assert_eq!(q.operators(), &[OperatorValue::Me, OperatorValue::Nobody]);
        assert_eq!(
            q.categories(),
            &[CategoryValue::Nobody, CategoryValue::Name("billing".into())]
        );
        assert_eq!(q.tags(), &["vip".to_string()]);
        assert_eq!(q.channels(), &["email".to_string()]);
        assert!(q.important());
        assert!(parse("-important").unwrap().statuses().is_empty());
        assert!(!parse("-important").unwrap().important());
    }

    #[test]
    fn setters_print_canonically() {
        assert_eq!(
            edited("priority>=high x", |q| q.set_priorities([Priority::Low])),
            "priority:low x"
        );
        assert_eq!(
            edited("x", |q| {
                q.set_operators([OperatorValue::Name("Ana Ruiz".into())]);
                q.set_categories([CategoryValue::Name("none".into())]);
                q.set_tags(["vip"]);
                q.set_channels(["email"]);
                q.set_important(true);
            }),
            "x op:\"Ana Ruiz\" cat:\"none\" tag:vip channel:email important"
        );
        assert_eq!(edited("important x", |q| q.set_important(false)), "x");
    }
}
