//! The text of a panic payload, for the reason a caught panic becomes.

/// The text of a panic payload: the message of `panic!("…")`, or
/// "unknown panic" for a payload that is not text.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_payloads_and_names_others() {
        let text = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        assert_eq!(panic_message(text.as_ref()), "boom");
        let formatted = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(formatted.as_ref()), "boom 1");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "unknown panic");
    }
}
