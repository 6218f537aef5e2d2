//! The search texts of every ticket, one after the other in one buffer.
//!
//! A typed search letter is a short scan of each listed ticket's text.
//! With each text its own allocation, made as tickets arrived, the texts of
//! neighbouring slots lie all over the heap and a scan waits on memory for
//! most of its time; here they are read in slot order from one buffer. A
//! changed ticket's new text is appended and the old one left as garbage,
//! until garbage is half of the buffer: then the live texts are copied
//! into a fresh buffer in slot order.

use super::Slot;
use super::row::{Listed, Row, SearchText, Searched, accent_folds};

/// Where a slot's text is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
    /// The folded title, relative to `start`.
    title: (u32, u32),
    folds: u64,
}

/// Below this many bytes the buffer is never compacted.
const COMPACT_ABOVE: usize = 1 << 20;

#[derive(Debug, Default)]
pub(super) struct Column {
    bytes: String,
    spans: Vec<Span>,
    garbage: usize,
}

impl Column {
    /// Sets a slot's text; true when it changed.
    pub(super) fn set(&mut self, slot: Slot, search: &SearchText) -> bool {
        let at = slot as usize;
        if self.spans.len() <= at {
            self.spans.resize(at + 1, Span::default());
        }
        let text = search.as_str();
        if self.text(slot) == Some(text) {
            return false;
        }
        self.forget(slot);
        if self.bytes.len() + text.len() > u32::MAX as usize {
            self.compact();
        }
        let (Ok(start), Ok(len)) = (u32::try_from(self.bytes.len()), u32::try_from(text.len()))
        else {
            tracing::error!(
                "the search texts outgrew their buffer: ticket in slot {slot} not searchable"
            );
            return true;
        };
        self.bytes.push_str(text);
        if let Some(span) = self.spans.get_mut(at) {
            *span = Span {
                start,
                len,
                title: search.title_span(),
                folds: accent_folds(text),
            };
        }
        self.compact_if_wasteful();
        true
    }

    /// Drops a slot's text.
    pub(super) fn forget(&mut self, slot: Slot) {
        if let Some(span) = self.spans.get_mut(slot as usize) {
            self.garbage += span.len as usize;
            *span = Span::default();
        }
    }

    /// Drops every text.
    pub(super) fn clear(&mut self) {
        *self = Column::default();
    }

    fn span(&self, slot: Slot) -> Option<&Span> {
        self.spans.get(slot as usize).filter(|s| s.len > 0)
    }

    /// A slot's text.
    pub(super) fn text(&self, slot: Slot) -> Option<&str> {
        let s = self.span(slot)?;
        self.bytes
            .get(s.start as usize..s.start as usize + s.len as usize)
    }

    /// A slot's text with its accent folds.
    pub(super) fn searched(&self, slot: Slot) -> Option<Searched<'_>> {
        let folds = self.span(slot)?.folds;
        self.text(slot).map(|text| Searched { text, folds })
    }

    /// A slot's row as filters see it.
    pub(super) fn listed<'a>(&'a self, slot: Slot, row: &'a Row) -> Listed<'a> {
        let folds = self.span(slot).map_or(0, |s| s.folds);
        Listed::new(row, self.text(slot).unwrap_or(""), folds)
    }

    /// A slot's folded title.
    pub(super) fn folded_title(&self, slot: Slot) -> &str {
        self.span(slot)
            .and_then(|s| {
                let (from, to) = s.title;
                self.bytes
                    .get(s.start as usize + from as usize..s.start as usize + to as usize)
            })
            .unwrap_or("")
    }

    fn compact_if_wasteful(&mut self) {
        if self.bytes.len() > COMPACT_ABOVE && self.garbage > self.bytes.len() / 2 {
            self.compact();
        }
    }

    /// Copies the live texts, in slot order, into a fresh buffer.
    fn compact(&mut self) {
        let mut bytes =
            String::with_capacity(self.bytes.len() - self.garbage.min(self.bytes.len()));
        for span in &mut self.spans {
            if span.len == 0 {
                continue;
            }
            let text = self
                .bytes
                .get(span.start as usize..span.start as usize + span.len as usize)
                .unwrap_or("");
            span.start = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            bytes.push_str(text);
        }
        self.bytes = bytes;
        self.garbage = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, ascii_bit};

    fn ticket(id: i64, title: &str) -> deskterm_api::Ticket {
        let mut t = crate::query::lang::testkit::ticket(id);
        t.title = title.into();
        t
    }

    #[test]
    fn replaced_texts_are_compacted_in_slot_order() {
        let mut store = Store::new();
        let n = 20_000;
        for round in 0..4 {
            for id in 0..n {
                store.put(&ticket(
                    id,
                    &format!("Título {round} del ticket número {id}"),
                ));
            }
        }
        let column = &store.search;
        assert!(
            column.garbage <= column.bytes.len() / 2,
            "compacted: {} of {} bytes garbage",
            column.garbage,
            column.bytes.len()
        );
        for id in [0, 1, n / 2, n - 1] {
            let slot = store.slot(id).unwrap_or(Slot::MAX);
            assert_eq!(
                store.folded_title(slot),
                format!("título 3 del ticket número {id}")
            );
            let text = store.listed(slot).map(|l| l.haystack().to_owned());
            assert!(text.is_some_and(|t| t.contains("título 3 del")));
        }
        assert_eq!(
            store.listed(0).map(|l| l.accent_folds()),
            Some(ascii_bit(b'i') | ascii_bit(b'u'))
        );
        store.remove(1);
        assert_eq!(column_text(&store, 1), None);
    }

    fn column_text(store: &Store, slot: Slot) -> Option<&str> {
        store.search.text(slot)
    }
}
