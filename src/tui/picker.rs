//! The choice popup: sort column, status/priority/operator filters (several
//! rows can be ticked) and the new status, priority or operator of the
//! selected ticket.

use crate::query::lang::OperatorValue;
use std::collections::BTreeSet;

use deskterm_api::{OperatorId, Priority, Sort, SortField};
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState};

use super::action::Action;
use super::app::{App, Effect, Level, Modal};
use super::command::TicketOp;
use super::keymap::Context;
use super::list::column_title;
use super::popup::centered;
use super::theme;

/// What a picker is choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    /// Sort column.
    Sort,
    /// Status filter (several).
    FilterStatus,
    /// Priority filter (several).
    FilterPriority,
    /// Operator filter (several).
    FilterOperator,
    /// New status of the ticket.
    EditStatus,
    /// New priority.
    EditPriority,
    /// New operator.
    EditOperator,
    /// A saved view.
    View,
}

impl PickerKind {
    /// Whether several rows can be ticked.
    fn multi(self) -> bool {
        matches!(
            self,
            PickerKind::FilterStatus | PickerKind::FilterPriority | PickerKind::FilterOperator
        )
    }

    /// Popup title.
    pub fn title(self) -> &'static str {
        match self {
            PickerKind::Sort => "Sort by",
            PickerKind::View => "Views",
            PickerKind::FilterStatus => "Show statuses",
            PickerKind::FilterPriority => "Show priorities",
            PickerKind::FilterOperator => "Show operators",
            PickerKind::EditStatus => "Status",
            PickerKind::EditPriority => "Priority",
            PickerKind::EditOperator => "Assign to",
        }
    }
}

/// The value behind a picker row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickValue {
    /// A sort column.
    Sort(SortField),
    /// A status key.
    Status(String),
    /// A priority.
    Priority(Priority),
    /// An operator, or nobody.
    Operator(Option<OperatorId>),
    /// A saved view, by position.
    View(usize),
}

/// A choice popup.
#[derive(Debug, Clone)]
pub struct Picker {
    /// What it chooses.
    pub kind: PickerKind,
    /// Rows: label and value.
    pub items: Vec<(String, PickValue)>,
    /// Highlighted row.
    pub cursor: usize,
    /// Ticked rows, for filters.
    pub chosen: BTreeSet<usize>,
}

impl App {
    /// Opens a picker on the current sort, filters or selected ticket.
    pub(super) fn open_picker(&mut self, kind: PickerKind) {
        let Some(meta) = &self.meta else {
            self.say(Level::Error, "still loading statuses and operators");
            return;
        };
        let current = self.selected_ticket();
        let current = current.as_ref();
        let query = &self.list.query;
        let my_id = self.me.as_ref().map(|m| m.id);
        let mut items: Vec<(String, PickValue)> = Vec::new();
        let mut chosen = BTreeSet::new();
        let mut cursor = 0;
        match kind {
            PickerKind::View => {
                for (i, view) in self.views.iter().enumerate() {
                    if self.view_name() == Some(view.name.as_str()) {
                        cursor = i;
                    }
                    let label = format!("{}  {}  {}", i + 1, view.name, view.query);
                    items.push((label, PickValue::View(i)));
                }
            }
            PickerKind::Sort => {
                for field in SortField::ALL {
                    if field == self.list.sort.field {
                        cursor = items.len();
                    }
                    items.push((column_title(field).to_owned(), PickValue::Sort(field)));
                }
            }
            PickerKind::FilterStatus | PickerKind::EditStatus => {
                for s in &meta.statuses {
                    let macro_label = match s.macro_status {
                        deskterm_api::MacroStatus::InProgress => "in progress",
                        deskterm_api::MacroStatus::Closed => "closed",
                    };
                    let i = items.len();
                    let named = |v: &String| {
                        v.eq_ignore_ascii_case(&s.key) || v.to_lowercase() == s.label.to_lowercase()
                    };
                    if query.statuses().iter().any(named) {
                        chosen.insert(i);
                    }
                    if kind == PickerKind::EditStatus && current.is_some_and(|t| t.status == s.key)
                    {
                        cursor = i;
                    }
                    items.push((
                        format!("{}  ({macro_label})", s.label),
                        PickValue::Status(s.key.clone()),
                    ));
                }
            }
            PickerKind::FilterPriority | PickerKind::EditPriority => {
                for p in Priority::ALL.into_iter().rev() {
                    let i = items.len();
                    if query.priorities().contains(&p) {
                        chosen.insert(i);
                    }
                    if kind == PickerKind::EditPriority && current.is_some_and(|t| t.priority == p)
                    {
                        cursor = i;
                    }
                    items.push((p.as_str().to_owned(), PickValue::Priority(p)));
                }
            }
            PickerKind::FilterOperator | PickerKind::EditOperator => {
                let assigned = current.map(|t| t.operator.as_ref().map(|o| o.id));
                let options = std::iter::once((None, "(unassigned)".to_owned()))
                    .chain(meta.operators.iter().map(|o| (Some(o.id), o.name.clone())));
                for (id, name) in options {
                    let i = items.len();
                    let picked = query.operators().iter().any(|v| match v {
                        OperatorValue::Nobody => id.is_none(),
                        OperatorValue::Me => id.is_some() && id == my_id,
                        OperatorValue::Name(n) => id.is_some_and(|id| {
                            meta.operators
                                .iter()
                                .any(|o| o.id == id && o.name.to_lowercase() == n.to_lowercase())
                        }),
                    });
                    if picked {
                        chosen.insert(i);
                    }
                    if kind == PickerKind::EditOperator && assigned == Some(id) {
                        cursor = i;
                    }
                    let me = self.me.as_ref().is_some_and(|m| Some(m.id) == id);
                    let label = if me { format!("{name} (me)") } else { name };
                    items.push((label, PickValue::Operator(id)));
                }
            }
        }
        if !kind.multi() {
            chosen.clear();
        }
        self.modal = Some(Modal::Picker(Picker {
            kind,
            items,
            cursor,
            chosen,
        }));
    }

    /// Opens a picker that changes the selected ticket, when there is one.
    pub(super) fn open_ticket_picker(&mut self, kind: PickerKind) {
        if self.selected_ticket().is_none() {
            self.say(Level::Error, "no ticket selected");
            return;
        }
        self.open_picker(kind);
    }

    /// Keys in the picker.
    pub(super) fn picker_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Picker(picker)) = &mut self.modal else {
            return;
        };
        let last = picker.items.len().saturating_sub(1);
        match action {
            Action::Down => picker.cursor = (picker.cursor + 1).min(last),
            Action::Up => picker.cursor = picker.cursor.saturating_sub(1),
            Action::Top => picker.cursor = 0,
            Action::Bottom => picker.cursor = last,
            Action::Toggle if picker.kind.multi() && !picker.chosen.remove(&picker.cursor) => {
                picker.chosen.insert(picker.cursor);
            }
            Action::Cancel => self.modal = None,
            Action::Confirm => {
                let Some(Modal::Picker(picker)) = self.modal.take() else {
                    return;
                };
                self.apply_pick(picker, effects);
            }
            _ => {}
        }
    }

    fn apply_pick(&mut self, picker: Picker, effects: &mut Vec<Effect>) {
        let Some((_, value)) = picker.items.get(picker.cursor).cloned() else {
            return;
        };
        // Enter on a filter with nothing ticked picks the highlighted row alone.
        let chosen: Vec<PickValue> = if picker.chosen.is_empty() {
            vec![value.clone()]
        } else {
            picker
                .chosen
                .iter()
                .filter_map(|i| picker.items.get(*i).map(|(_, v)| v.clone()))
                .collect()
        };
        match picker.kind {
            PickerKind::View => {
                if let PickValue::View(i) = value {
                    self.switch_view(i);
                }
            }
            PickerKind::Sort => {
                if let PickValue::Sort(field) = value {
                    let sort = &mut self.list.sort;
                    if field == sort.field {
                        sort.descending = !sort.descending;
                    } else {
                        // Newest, most urgent first is what an operator wants on a first pick.
                        let descending = matches!(
                            field,
                            SortField::Priority | SortField::Updated | SortField::Created
                        );
                        *sort = Sort { field, descending };
                    }
                    self.refresh_view();
                }
            }
            PickerKind::FilterStatus => {
                let keys: Vec<String> = chosen
                    .into_iter()
                    .filter_map(|v| match v {
                        PickValue::Status(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                self.list.query.set_statuses(keys);
                self.refresh_view();
            }
            PickerKind::FilterPriority => {
                let priorities: Vec<Priority> = chosen
                    .into_iter()
                    .filter_map(|v| match v {
                        PickValue::Priority(p) => Some(p),
                        _ => None,
                    })
                    .collect();
                self.list.query.set_priorities(priorities);
                self.refresh_view();
            }
            PickerKind::FilterOperator => {
                let me = self.me.as_ref().map(|m| m.id);
                let values: Vec<OperatorValue> = chosen
                    .into_iter()
                    .filter_map(|v| match v {
                        PickValue::Operator(None) => Some(OperatorValue::Nobody),
                        PickValue::Operator(Some(id)) if Some(id) == me => Some(OperatorValue::Me),
                        PickValue::Operator(Some(id)) => self
                            .meta
                            .as_ref()
                            .and_then(|m| m.operators.iter().find(|o| o.id == id))
                            .map(|o| OperatorValue::Name(o.name.clone())),
                        _ => None,
                    })
                    .collect();
                self.list.query.set_operators(values);
                self.refresh_view();
            }
            PickerKind::EditStatus | PickerKind::EditPriority | PickerKind::EditOperator => {
                let op = match value {
                    PickValue::Status(s) => TicketOp::Status(s),
                    PickValue::Priority(p) => TicketOp::Priority(p),
                    PickValue::Operator(o) => TicketOp::Operator(o),
                    _ => return,
                };
                self.change_tickets(op, effects);
            }
        }
    }
}

/// Draws the picker when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Picker(picker)) = &app.modal else {
        return;
    };
    let multi = picker.kind.multi();
    let edits = matches!(
        picker.kind,
        PickerKind::EditStatus | PickerKind::EditPriority | PickerKind::EditOperator
    );
    let marked = app.list.marked().len();
    let title = if edits && marked > 0 {
        format!(" {} · {marked} marked tickets ", picker.kind.title())
    } else {
        format!(" {} ", picker.kind.title())
    };
    let key = |a| {
        app.keymap
            .key_for(Context::Picker, a)
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    let hint = if multi {
        format!(
            " {} tick · {} apply · {} cancel ",
            key(Action::Toggle),
            key(Action::Confirm),
            key(Action::Cancel)
        )
    } else {
        format!(
            " {} choose · {} cancel ",
            key(Action::Confirm),
            key(Action::Cancel)
        )
    };
    let widest = picker
        .items
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0)
        .max(hint.chars().count());
    let area = centered(
        frame.area(),
        widest as u16 + 8,
        picker.items.len() as u16 + 2,
    );
    let items: Vec<ListItem<'_>> = picker
        .items
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            let mark = if !multi {
                ""
            } else if picker.chosen.contains(&i) {
                "[x] "
            } else {
                "[ ] "
            };
            ListItem::new(format!("{mark}{label}"))
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(title)
        .title_bottom(Line::from(Span::styled(hint, theme::dim())));
    let list = List::new(items)
        .block(block)
        .highlight_style(theme::selected_row())
        .highlight_symbol("› ");
    let mut state = ListState::default().with_selected(Some(picker.cursor));
    frame.render_widget(Clear, area);
    frame.render_stateful_widget(list, area, &mut state);
}
