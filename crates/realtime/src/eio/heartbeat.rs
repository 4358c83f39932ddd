//! The heartbeat of a session, as steps on its state: the server pings every
//! `ping_interval` and closes the session when no pong came within
//! `ping_timeout`, except while reading is held (the pong may be among what is
//! not read); and the one-shot application deadline. The driver runs these on
//! every wake-up and sleeps until [`ConnState::wake_at`].

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::conn::ConnState;
use super::{CloseReason, Frame};

/// What a [`ConnState::tick`] did that the driver must act on.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Tick {
    /// A ping was queued: wake the writer.
    pub(super) pinged: bool,
    /// The application deadline passed (and is cleared): run `on_deadline`.
    pub(super) deadline: bool,
}

impl ConnState {
    /// The pong is late and reading is not held.
    pub(super) fn ping_overdue(&self, now: Instant) -> bool {
        self.holds == 0 && self.pong_deadline.is_some_and(|d| now >= d)
    }

    /// Pings when one is due, closes on a missed pong, fires a passed deadline.
    /// Nothing once the session is closing.
    pub(super) fn tick(&mut self, now: Instant, ping_timeout: Duration) -> Tick {
        let mut tick = Tick::default();
        if self.closed.is_some() {
            return tick;
        }
        if self.ping_overdue(now) {
            self.closed = Some(CloseReason::PingTimeout);
        } else if self.pong_deadline.is_none() && now >= self.next_ping {
            // on the schedule, even when this wake-up comes late
            let due = (self.next_ping + ping_timeout).max(now + ping_timeout / 2);
            self.pong_deadline = Some(due);
            self.queue.push_back(Frame::Text(Bytes::from_static(b"2")));
            self.queued += 1;
            tick.pinged = true;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            tick.deadline = true;
        }
        tick
    }

    /// A pong came: the next ping is due `ping_interval` from now.
    pub(super) fn pong(&mut self, now: Instant, ping_interval: Duration) {
        self.pong_deadline = None;
        self.next_ping = now + ping_interval;
    }

    /// When the driver must wake next: the heartbeat (no pong deadline while
    /// reading is held), the application deadline, or `linger` (a closing
    /// polling session's end); at the latest `fallback`.
    pub(super) fn wake_at(&self, linger: Option<Instant>, fallback: Instant) -> Instant {
        let heartbeat = match self.pong_deadline {
            Some(d) if self.holds == 0 => Some(d),
            Some(_) => None,
            None => Some(self.next_ping),
        };
        [heartbeat, self.deadline, linger]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);
    const TIMEOUT: Duration = Duration::from_secs(20);

    fn state(now: Instant) -> ConnState {
        ConnState::new(true, now + 25 * SEC)
    }

    #[test]
    fn pings_once_when_due_on_the_schedule() {
        let t0 = Instant::now();
        let mut st = state(t0);
        assert_eq!(st.tick(t0, TIMEOUT), Tick::default());
        assert!(st.queue.is_empty());
        // woken 3 s late: the pong is still due 20 s after the scheduled ping
        let late = t0 + 28 * SEC;
        assert!(st.tick(late, TIMEOUT).pinged);
        assert_eq!(st.pong_deadline, Some(t0 + 45 * SEC));
        assert_eq!(st.queue.len(), 1);
        assert_eq!(st.queued, 1);
        // no second ping while the pong is awaited
        assert!(!st.tick(late + SEC, TIMEOUT).pinged);
        assert_eq!(st.queue.len(), 1);
    }

    #[test]
    fn a_very_late_wake_up_still_gives_half_the_timeout() {
        let t0 = Instant::now();
        let mut st = state(t0);
        let now = t0 + 100 * SEC;
        st.tick(now, TIMEOUT);
        assert_eq!(st.pong_deadline, Some(now + 10 * SEC));
    }

    #[test]
    fn a_missed_pong_closes_unless_reading_is_held() {
        let t0 = Instant::now();
        let mut st = state(t0);
        st.pong_deadline = Some(t0 + SEC);
        st.holds = 1;
        assert!(!st.ping_overdue(t0 + 2 * SEC));
        st.tick(t0 + 2 * SEC, TIMEOUT);
        assert_eq!(st.closed, None);
        st.holds = 0;
        assert!(st.ping_overdue(t0 + 2 * SEC));
        st.tick(t0 + 2 * SEC, TIMEOUT);
        assert_eq!(st.closed, Some(CloseReason::PingTimeout));
    }

    #[test]
    fn a_pong_reschedules_the_next_ping() {
        let t0 = Instant::now();
        let mut st = state(t0);
        st.tick(t0 + 25 * SEC, TIMEOUT);
        st.pong(t0 + 26 * SEC, 25 * SEC);
        assert_eq!(st.pong_deadline, None);
        assert_eq!(st.next_ping, t0 + 51 * SEC);
        assert!(!st.tick(t0 + 50 * SEC, TIMEOUT).pinged);
    }

    #[test]
    fn the_deadline_fires_once_and_not_after_close() {
        let t0 = Instant::now();
        let mut st = state(t0);
        st.deadline = Some(t0 + SEC);
        assert!(!st.tick(t0, TIMEOUT).deadline);
        assert!(st.tick(t0 + SEC, TIMEOUT).deadline);
        assert_eq!(st.deadline, None);
        assert!(!st.tick(t0 + 2 * SEC, TIMEOUT).deadline);
        st.deadline = Some(t0 + SEC);
        st.closed = Some(CloseReason::ServerClose);
        assert_eq!(st.tick(t0 + 30 * SEC, TIMEOUT), Tick::default());
        assert!(st.queue.is_empty());
    }

    #[test]
    fn wakes_at_the_earliest_timer() {
        let t0 = Instant::now();
        let fallback = t0 + 99 * SEC;
        let mut st = state(t0);
        assert_eq!(st.wake_at(None, fallback), t0 + 25 * SEC);
        st.deadline = Some(t0 + 5 * SEC);
        assert_eq!(st.wake_at(None, fallback), t0 + 5 * SEC);
        assert_eq!(st.wake_at(Some(t0 + 2 * SEC), fallback), t0 + 2 * SEC);
        st.deadline = None;
        // held: the pong deadline does not count, nor does the next ping
        st.pong_deadline = Some(t0 + 3 * SEC);
        st.holds = 1;
        assert_eq!(st.wake_at(None, fallback), fallback);
        st.holds = 0;
        assert_eq!(st.wake_at(None, fallback), t0 + 3 * SEC);
    }
}
