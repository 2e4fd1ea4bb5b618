//! llama.cpp's log, kept out of the terminal: its warnings and errors are remembered (the last few) so
//! that a failed load can say why, and everything goes to stderr when `YARDSTICK_LLAMA_LOG=1`.

use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Mutex, Once};

const KEEP: usize = 24;

static LINES: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
static INSTALL: Once = Once::new();

fn verbose() -> bool {
    std::env::var("YARDSTICK_LLAMA_LOG").is_ok_and(|v| v == "1")
}

extern "C" fn on_log(level: llama_cpp_sys_2::ggml_log_level, text: *const c_char, _: *mut c_void) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string that lives for the duration of the call.
    let line = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    if verbose() {
        eprint!("{line}");
    }
    let keep = level == llama_cpp_sys_2::GGML_LOG_LEVEL_WARN
        || level == llama_cpp_sys_2::GGML_LOG_LEVEL_ERROR
        || level == llama_cpp_sys_2::GGML_LOG_LEVEL_CONT;
    if !keep {
        return;
    }
    if let Ok(mut lines) = LINES.lock() {
        let trimmed = line.trim_end();
        if level == llama_cpp_sys_2::GGML_LOG_LEVEL_CONT {
            if let Some(last) = lines.back_mut() {
                last.push_str(trimmed);
            }
            return;
        }
        if lines.len() == KEEP {
            lines.pop_front();
        }
        lines.push_back(trimmed.to_string());
    }
}

/// Route llama.cpp's and ggml's log through [`on_log`] (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        // SAFETY: the callback is a plain function that never unwinds and keeps no pointer it is given.
        unsafe {
            llama_cpp_sys_2::llama_log_set(Some(on_log), std::ptr::null_mut());
            llama_cpp_sys_2::ggml_log_set(Some(on_log), std::ptr::null_mut());
        }
    });
}

/// Forget the lines seen so far (before an operation whose failure should be explained).
pub fn clear() {
    if let Ok(mut lines) = LINES.lock() {
        lines.clear();
    }
}

/// The warnings and errors llama.cpp logged since [`clear`], most recent last, joined for a message.
pub fn recent() -> String {
    LINES
        .lock()
        .map(|l| l.iter().cloned().collect::<Vec<_>>().join(" | "))
        .unwrap_or_default()
}
