//! healthcheck.py's state machine, without I/O: one step per check, the state entered (if
//! any) returned, so the caller runs that state's hooks and announces what it means.

/// healthcheck.py's states; [`State::name`] is the `STATE` a hook is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Init,
    Disabled,
    /// Checks pass, not yet `rise` of them.
    Rising,
    /// Checks fail, not yet `fall` of them.
    Falling,
    Up,
    Down,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Disabled => "DISABLED",
            State::Rising => "RISING",
            State::Falling => "FALLING",
            State::Up => "UP",
            State::Down => "DOWN",
        }
    }

    /// Rising or falling: the next check comes after the fast interval.
    pub fn is_changing(self) -> bool {
        matches!(self, State::Rising | State::Falling)
    }

    /// What the routes say in this state; `None`: unchanged (init, rising, falling).
    pub fn announced(self) -> Option<Announced> {
        match self {
            State::Up => Some(Announced::Up),
            State::Down => Some(Announced::Down),
            State::Disabled => Some(Announced::Disabled),
            State::Init | State::Rising | State::Falling => None,
        }
    }
}

/// The three states the routes (and service addresses) follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announced {
    Up,
    Down,
    Disabled,
}

impl Announced {
    pub fn name(self) -> &'static str {
        match self {
            Announced::Up => "up",
            Announced::Down => "down",
            Announced::Disabled => "disabled",
        }
    }
}

#[derive(Debug)]
pub struct Fsm {
    rise: u32,
    fall: u32,
    state: State,
    /// Consecutive results toward the state being approached.
    checks: u32,
}

impl Fsm {
    pub fn new(rise: u32, fall: u32) -> Fsm {
        Fsm {
            rise,
            fall,
            state: State::Init,
            checks: 0,
        }
    }

    /// Starts up (the state file's last state).
    pub fn up(rise: u32, fall: u32) -> Fsm {
        Fsm {
            state: State::Up,
            ..Fsm::new(rise, fall)
        }
    }

    /// Down at once (a replayed up state whose first check failed).
    pub fn force_down(&mut self) -> State {
        self.state = State::Down;
        self.checks = 0;
        State::Down
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// One iteration: `disabled` (the disable file exists; `ok` is then ignored) and the
    /// check's result. Returns the state entered, if the state changed.
    pub fn step(&mut self, disabled: bool, ok: bool) -> Option<State> {
        let target = if self.state != State::Disabled && disabled {
            State::Disabled
        } else {
            match (self.state, ok) {
                (State::Disabled, _) if disabled => return None,
                (State::Disabled, _) => State::Init,
                (State::Up, true) | (State::Down, false) => return None,
                (State::Init | State::Down, true) | (State::Falling, true) => {
                    self.checks = 1;
                    State::Rising
                }
                (State::Init | State::Up, false) | (State::Rising, false) => {
                    self.checks = 1;
                    State::Falling
                }
                (State::Rising, true) => {
                    self.checks += 1;
                    if self.checks < self.rise {
                        return None;
                    }
                    State::Up
                }
                (State::Falling, false) => {
                    self.checks += 1;
                    if self.checks < self.fall {
                        return None;
                    }
                    State::Down
                }
            }
        };
        // healthcheck.py's shortcut: with rise (fall) 1 rising (falling) is up (down) at once.
        let target = match target {
            State::Rising if self.rise <= 1 => State::Up,
            State::Falling if self.fall <= 1 => State::Down,
            t => t,
        };
        self.state = target;
        Some(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(fsm: &mut Fsm, steps: &[(bool, bool)]) -> Vec<Option<&'static str>> {
        steps
            .iter()
            .map(|&(d, ok)| fsm.step(d, ok).map(State::name))
            .collect()
    }

    #[test]
    fn rise_and_fall_need_consecutive_results() {
        let mut f = Fsm::new(3, 2);
        let t = |ok| (false, ok);
        assert_eq!(
            run(
                &mut f,
                &[t(true), t(true), t(false), t(true), t(true), t(true)]
            ),
            [
                Some("RISING"),
                None,
                Some("FALLING"),
                Some("RISING"),
                None,
                Some("UP")
            ]
        );
        assert_eq!(
            run(&mut f, &[t(true), t(false), t(true), t(false), t(false)]),
            [
                None,
                Some("FALLING"),
                Some("RISING"),
                Some("FALLING"),
                Some("DOWN")
            ]
        );
        assert_eq!(run(&mut f, &[t(false)]), [None]);
    }

    #[test]
    fn disabled_wins_and_ends_in_init() {
        let mut f = Fsm::up(2, 2);
        assert_eq!(
            run(
                &mut f,
                &[(true, true), (true, false), (false, false), (false, false)]
            ),
            [Some("DISABLED"), None, Some("INIT"), Some("FALLING")]
        );
    }

    #[test]
    fn rise_or_fall_of_one_is_immediate() {
        let mut f = Fsm::new(1, 1);
        assert_eq!(
            run(&mut f, &[(false, true), (false, false), (false, true)]),
            [Some("UP"), Some("DOWN"), Some("UP")]
        );
        assert_eq!(State::Up.announced(), Some(Announced::Up));
        assert_eq!(State::Rising.announced(), None);
    }
}
