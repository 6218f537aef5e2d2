//! The statistics view (`F2`, `:stats`): what is open now per status,
//! priority and category, how long tickets took to close, how soon they were
//! first answered, and tickets opened and closed per day — for everything,
//! or for the current view's operator and category. `j`/`k` change the
//! period, `space` the scope, `esc` closes.

use deskterm_api::{Priority, Stats};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Clear, Paragraph, Sparkline};

use super::action::Action;
use super::app::{App, Effect, Modal};
use super::extras::Loaded;
use super::theme;
use crate::backend::{Feature, StatsQuery};
use crate::query::lang::{Atom, CategoryValue, OperatorValue};
use crate::sync::Command;

/// The periods offered, in days.
pub const PERIODS: [u64; 4] = [7, 30, 90, 365];

/// Whose tickets the numbers are of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every ticket.
    Everything,
    /// The current view's operator and category (from its query).
    View {
        /// The operator (an id or `none`), if the view has one.
        operator: Option<String>,
        /// The category (a name or `none`), if the view has one.
        category: Option<String>,
        /// How the view's query says it.
        label: String,
    },
}

/// The view's state.
#[derive(Debug, Clone)]
pub struct StatsView {
    /// Which of [`PERIODS`].
    pub period: usize,
    /// Whose tickets.
    pub scope: Scope,
    /// The question last asked, and its answer.
    pub asked: StatsQuery,
    /// The numbers, as far as they came.
    pub stats: Loaded<Stats>,
}

impl App {
    /// The operator and category of the current view's query, when it names
    /// one of each at most (other terms do not apply to statistics).
    fn view_scope(&self) -> Scope {
        let mut operator = None;
        let mut category = None;
        let mut words = Vec::new();
        for term in &self.list.query.terms {
            match (&term.atom, term.negated) {
                (Atom::Operator(values), false) if values.len() == 1 && operator.is_none() => {
                    let id = match &values[0] {
                        OperatorValue::Me => self.me.as_ref().map(|m| m.id.to_string()),
                        OperatorValue::Nobody => Some("none".to_owned()),
                        OperatorValue::Name(name) => self.meta.as_ref().and_then(|m| {
                            let name = name.to_lowercase();
                            m.operators
                                .iter()
                                .find(|o| o.name.to_lowercase().starts_with(&name))
                                .map(|o| o.id.to_string())
                        }),
                    };
                    if id.is_some() {
                        operator = id;
                        words.push(format!("op:{}", operator_word(&values[0])));
                    }
                }
                (Atom::Category(values), false) if values.len() == 1 && category.is_none() => {
                    category = Some(match &values[0] {
                        CategoryValue::Nobody => "none".to_owned(),
                        CategoryValue::Name(name) => name.clone(),
                    });
                    words.push(format!("cat:{}", category.as_deref().unwrap_or_default()));
                }
                _ => {}
            }
        }
        if operator.is_none() && category.is_none() {
            return Scope::Everything;
        }
        Scope::View {
            operator,
            category,
            label: words.join(" "),
        }
    }

    /// Opens the view on the last 30 days, for everything.
    pub(super) fn open_stats(&mut self, effects: &mut Vec<Effect>) {
        if !self.offers(Feature::Statistics) {
            self.say_error("this helpdesk serves no statistics");
            return;
        }
        let mut view = StatsView {
            period: 1,
            scope: Scope::Everything,
            asked: StatsQuery::default(),
            stats: Loaded::Loading,
        };
        self.ask_stats(&mut view, effects);
        self.modal = Some(Modal::Stats(Box::new(view)));
    }

    fn ask_stats(&self, view: &mut StatsView, effects: &mut Vec<Effect>) {
        let today = self.now.with_timezone(&chrono::Utc).date_naive();
        let days = PERIODS[view.period.min(PERIODS.len() - 1)];
        let (operator, category) = match &view.scope {
            Scope::Everything => (None, None),
            Scope::View {
                operator, category, ..
            } => (operator.clone(), category.clone()),
        };
        view.asked = StatsQuery {
            from: today.checked_sub_days(chrono::Days::new(days - 1)),
            to: Some(today),
            category,
            operator,
        };
        view.stats = Loaded::Loading;
        effects.push(Effect::Sync(Command::Stats(view.asked.clone())));
    }

    /// Keys in the view: `j`/`k` the period, `space` the scope, `enter` reads again.
    pub(super) fn stats_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let scope = self.view_scope();
        let Some(Modal::Stats(mut view)) = self.modal.take() else {
            return;
        };
        match action {
            Action::Cancel => return,
            Action::Down => {
                view.period = (view.period + 1).min(PERIODS.len() - 1);
                self.ask_stats(&mut view, effects);
            }
            Action::Up => {
                view.period = view.period.saturating_sub(1);
                self.ask_stats(&mut view, effects);
            }
            Action::Toggle => {
                view.scope = match view.scope {
                    Scope::View { .. } => Scope::Everything,
                    Scope::Everything => scope,
                };
                if view.scope == Scope::Everything {
                    self.say_info(
                        "the view names no operator or category: statistics of everything",
                    );
                }
                self.ask_stats(&mut view, effects);
            }
            Action::Confirm => self.ask_stats(&mut view, effects),
            _ => {}
        }
        self.modal = Some(Modal::Stats(view));
    }

    /// The backend answered; an answer to an older question is dropped.
    pub(super) fn stats_answered(&mut self, query: StatsQuery, answer: Result<Stats, String>) {
        if let Some(Modal::Stats(view)) = &mut self.modal
            && view.asked == query
        {
            view.stats = match answer {
                Ok(stats) => Loaded::Ready(stats),
                Err(e) => Loaded::Failed(e),
            };
        }
    }
}

fn operator_word(value: &OperatorValue) -> String {
    match value {
        OperatorValue::Me => "me".to_owned(),
        OperatorValue::Nobody => "none".to_owned(),
        OperatorValue::Name(name) => name.clone(),
    }
}

/// `3d 4h`, `5h 10m`, `12m` for a number of seconds.
pub fn duration(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round().max(0.0) as u64;
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins}m"),
        (0, h) => format!("{h}h {mins}m"),
        (d, h) => format!("{d}d {h}h"),
    }
}

fn bars<'a>(items: impl Iterator<Item = (String, u64)>, style: Style) -> BarGroup<'a> {
    let bars: Vec<Bar<'a>> = items
        .map(|(label, value)| {
            Bar::default()
                .label(Line::from(label))
                .value(value)
                .style(style)
        })
        .collect();
    BarGroup::default().bars(&bars)
}

/// Draws the view when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Stats(view)) = &app.modal else {
        return;
    };
    let area = frame.area().inner(ratatui::layout::Margin::new(2, 1));
    frame.render_widget(Clear, area);
    let scope = match &view.scope {
        Scope::Everything => "everything".to_owned(),
        Scope::View { label, .. } => format!("the view's {label}"),
    };
    let days = PERIODS[view.period.min(PERIODS.len() - 1)];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(format!(" Statistics · last {days} days · {scope} "))
        .title_bottom(Line::styled(
            " j/k period · space: everything / the view · enter: again · esc: close ",
            theme::dim(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let stats = match &view.stats {
        Loaded::Ready(stats) => stats,
        Loaded::Loading => {
            frame.render_widget(
                Paragraph::new(Line::styled("loading…", theme::dim())),
                inner,
            );
            return;
        }
        Loaded::Failed(e) => {
            frame.render_widget(
                Paragraph::new(Line::styled(e.clone(), theme::error())),
                inner,
            );
            return;
        }
    };
    let [summary, charts, lists, days_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(6),
        Constraint::Length(inner.height.saturating_sub(10).clamp(3, 8)),
        Constraint::Length(3),
    ])
    .areas(inner);
    draw_summary(stats, frame, summary);
    let [by_status, by_priority] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(charts);
    let status_width = (by_status.width.saturating_sub(2)
        / stats.open_by_status.len().max(1) as u16)
        .saturating_sub(1)
        .clamp(3, 12);
    frame.render_widget(
        BarChart::default()
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(" Open by status "),
            )
            .data(bars(
                stats
                    .open_by_status
                    .iter()
                    .map(|s| (s.label.clone(), s.count)),
                theme::status(Some(deskterm_api::MacroStatus::InProgress)),
            ))
            .bar_width(status_width)
            .bar_gap(1),
        by_status,
    );
    frame.render_widget(
        BarChart::default()
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(" Open by priority "),
            )
            .data(bars(
                stats
                    .open_by_priority
                    .iter()
                    .map(|p| (p.priority.as_str().to_owned(), p.count)),
                theme::priority(Priority::High),
            ))
            .bar_width(
                (by_priority.width.saturating_sub(2) / 4)
                    .saturating_sub(1)
                    .clamp(3, 10),
            )
            .bar_gap(1),
        by_priority,
    );
    let [shares, closing] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lists);
    let shares_table = stats
        .open_by_category
        .iter()
        .map(|c| {
            category_line(
                c.category.as_deref(),
                format!("{:>6}  {:>5.1}%", c.count, c.share * 100.0),
            )
        })
        .collect();
    draw_table(frame, shares, " Open by category (share) ", shares_table);
    let closing_table = stats
        .time_to_close
        .iter()
        .map(|c| {
            category_line(
                c.category.as_deref(),
                format!("{:>6}  {:>8}", c.closed, duration(c.mean_seconds)),
            )
        })
        .collect();
    draw_table(
        frame,
        closing,
        " Closed: count, mean time to close ",
        closing_table,
    );
    let opened: Vec<u64> = stats.days.iter().map(|d| d.opened).collect();
    let total_opened: u64 = opened.iter().sum();
    let total_closed: u64 = stats.days.iter().map(|d| d.closed).sum();
    frame.render_widget(
        Sparkline::default()
            .block(Block::default().borders(Borders::TOP).title(format!(
                " Opened per day ({total_opened} opened, {total_closed} closed in the period) "
            )))
            .data(&opened)
            .style(theme::outbound()),
        days_area,
    );
}

/// One row of a per-category table: the name, then the numbers.
fn category_line(category: Option<&str>, numbers: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!(" {:<16}", category.unwrap_or("—")), theme::label()),
        Span::raw(numbers),
    ])
}

fn draw_table(frame: &mut Frame<'_>, area: Rect, title: &'static str, lines: Vec<Line<'static>>) {
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP).title(title)),
        area,
    );
}

fn draw_summary(stats: &Stats, frame: &mut Frame<'_>, area: Rect) {
    let first = match stats.first_response.mean_seconds {
        Some(s) => format!(
            "{} ({} of {} answered)",
            duration(s),
            stats.first_response.answered,
            stats.first_response.opened
        ),
        None => format!("— (none of {} answered)", stats.first_response.opened),
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(" Open now ", theme::label()),
            Span::raw(format!("{}", stats.open)),
            Span::styled("   First response ", theme::label()),
            Span::raw(first),
        ]),
        Line::styled(
            format!(
                " {} to {} (UTC)",
                stats.from,
                stats.to.pred_opt().unwrap_or(stats.to)
            ),
            theme::dim(),
        ),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
pub(super) mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use deskterm_api::{
        CategoryShare, CategoryTime, DayCount, PriorityCount, ResponseTime, StatusCount,
    };

    use super::*;
    use crate::sync::SyncEvent;
    use crate::tui::app::Msg;
    use crate::tui::fixture::loaded_app;

    fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn asked(effects: &[Effect]) -> Vec<StatsQuery> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Sync(Command::Stats(q)) => Some(q.clone()),
                _ => None,
            })
            .collect()
    }

    /// Numbers of a small helpdesk, for the view's tests and snapshots.
    pub(in crate::tui) fn sample(from: chrono::NaiveDate, days: u64) -> Stats {
        let to = from + chrono::Days::new(days);
        Stats {
            from,
            to,
            open: 12,
            open_by_status: vec![
                StatusCount {
                    status: "new".into(),
                    label: "New".into(),
                    count: 5,
                },
                StatusCount {
                    status: "open".into(),
                    label: "Open".into(),
                    count: 4,
                },
                StatusCount {
                    status: "pending".into(),
                    label: "Pending".into(),
                    count: 3,
                },
            ],
            open_by_priority: Priority::ALL
                .iter()
                .zip([2, 6, 3, 1])
                .map(|(p, count)| PriorityCount {
                    priority: *p,
                    count,
                })
                .collect(),
            open_by_category: vec![
                CategoryShare {
                    category: Some("Billing".into()),
                    count: 6,
                    share: 0.5,
                },
                CategoryShare {
                    category: Some("Soporte".into()),
                    count: 4,
                    share: 4.0 / 12.0,
                },
                CategoryShare {
                    category: None,
                    count: 2,
                    share: 2.0 / 12.0,
                },
            ],
            time_to_close: vec![
                CategoryTime {
                    category: Some("Billing".into()),
                    closed: 9,
                    mean_seconds: 93_600.0,
                },
                CategoryTime {
                    category: None,
                    closed: 2,
                    mean_seconds: 2_700.0,
                },
            ],
            first_response: ResponseTime {
                opened: 20,
                answered: 15,
                mean_seconds: Some(5_400.0),
            },
            days: (0..days)
                .map(|i| DayCount {
                    day: from + chrono::Days::new(i),
                    opened: (i * 7 % 5) + 1,
                    closed: i % 3,
                })
                .collect(),
        }
    }

    /// The app with the view open and answered.
    pub(in crate::tui) fn with_stats(width: u16, height: u16) -> App {
        let mut app = loaded_app(width, height);
        let effects = press(&mut app, KeyCode::F(2));
        let query = asked(&effects).remove(0);
        let stats = sample(query.from.unwrap(), 30);
        app.update(Msg::Sync(SyncEvent::Stats(query, Ok(stats))));
        app
    }

    #[test]
    fn f2_asks_for_the_last_30_days_and_shows_the_answer() {
        let mut app = loaded_app(120, 40);
        let effects = press(&mut app, KeyCode::F(2));
        let query = asked(&effects).remove(0);
        let today = crate::tui::fixture::now().date_naive();
        assert_eq!(query.to, Some(today));
        assert_eq!(query.from, today.checked_sub_days(chrono::Days::new(29)));
        assert_eq!(
            (query.category.as_deref(), query.operator.as_deref()),
            (None, None)
        );
        // An answer to another question is dropped.
        let other = StatsQuery {
            category: Some("x".into()),
            ..query.clone()
        };
        app.update(Msg::Sync(SyncEvent::Stats(other, Err("late".into()))));
        assert!(matches!(&app.modal, Some(Modal::Stats(v)) if v.stats == Loaded::Loading));
        app.update(Msg::Sync(SyncEvent::Stats(
            query.clone(),
            Ok(sample(today, 30)),
        )));
        assert!(matches!(&app.modal, Some(Modal::Stats(v)) if matches!(v.stats, Loaded::Ready(_))));
        // j: a longer period, asked again.
        let effects = press(&mut app, KeyCode::Char('j'));
        let longer = asked(&effects).remove(0);
        assert_eq!(longer.from, today.checked_sub_days(chrono::Days::new(89)));
        press(&mut app, KeyCode::Esc);
        assert!(app.modal.is_none());
    }

    #[test]
    fn space_narrows_to_the_views_operator_and_category() {
        let mut app = loaded_app(120, 40);
        app.search_typed("op:me cat:Billing urgent");
        press(&mut app, KeyCode::F(2));
        let effects = press(&mut app, KeyCode::Char(' '));
        let query = asked(&effects).remove(0);
        assert_eq!(query.operator.as_deref(), Some("1"));
        assert_eq!(query.category.as_deref(), Some("Billing"));
        let effects = press(&mut app, KeyCode::Char(' '));
        let query = asked(&effects).remove(0);
        assert_eq!((query.category, query.operator), (None, None));
    }

    #[test]
    fn durations_read_in_days_hours_and_minutes() {
        assert_eq!(duration(93_600.0), "1d 2h");
        assert_eq!(duration(5_400.0), "1h 30m");
        assert_eq!(duration(59.0), "1m");
    }
}
