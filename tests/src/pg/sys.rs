//! The only code that calls into libc; each function wraps one FFI call.

use std::ffi::CString;

/// Whether the effective user is root.
#[allow(unsafe_code)]
pub(super) fn is_root() -> bool {
    // SAFETY: geteuid takes no arguments, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() == 0 }
}

/// `(uid, gid)` of the OS user `name`, `None` if there is no such user.
/// Uses the reentrant `getpwnam_r`, since tests run on several threads.
#[allow(unsafe_code)]
pub(super) fn lookup_user(name: &str) -> Result<Option<(u32, u32)>, String> {
    let c_name = CString::new(name).map_err(|e| format!("bad user name {name:?}: {e}"))?;
    let mut buf_len = 1024usize;
    loop {
        let mut buf: Vec<libc::c_char> = vec![0; buf_len];
        // SAFETY: all-zero bytes are a valid `passwd` (null pointers and zero
        // ids); getpwnam_r writes only into `pwd`, `buf` (with its true length)
        // and `result`, all of which outlive the call, and `c_name` is a valid
        // NUL-terminated string. We read only the plain integer fields of `pwd`
        // and only when `result` is non-null, i.e. when the entry was found.
        let (rc, found) = unsafe {
            let mut pwd: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            );
            (rc, (!result.is_null()).then_some((pwd.pw_uid, pwd.pw_gid)))
        };
        match rc {
            0 => return Ok(found),
            libc::ERANGE if buf_len < 1 << 20 => buf_len *= 4,
            _ => {
                return Err(format!(
                    "looking up the OS user {name:?} failed: {}",
                    std::io::Error::from_raw_os_error(rc)
                ));
            }
        }
    }
}

/// Makes this process a "child subreaper" (or stops it being one): orphaned
/// descendants get reparented to it instead of to init. Returns whether the
/// call succeeded; a no-op returning false outside Linux.
#[allow(unsafe_code)]
pub(super) fn set_child_subreaper(on: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        let on = libc::c_ulong::from(on);
        // SAFETY: PR_SET_CHILD_SUBREAPER takes a plain integer flag and touches
        // no memory; the remaining arguments are unused and passed as 0.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, on, 0, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = on;
        false
    }
}

/// Reaps `pid` if it is an exited child of ours, without blocking.
/// `Some(true)`: reaped; `Some(false)`: our child, still running;
/// `None`: not our child (or any other error), nothing to do.
#[allow(unsafe_code)]
pub(super) fn try_reap(pid: u32) -> Option<bool> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    let mut status: libc::c_int = 0;
    // SAFETY: waitpid writes only into `status`, which outlives the call;
    // WNOHANG makes it return at once.
    let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    match rc {
        0 => Some(false),
        r if r == pid => Some(true),
        _ => None,
    }
}

/// Registers `f` to run at normal process exit; false if atexit failed.
#[allow(unsafe_code)]
pub(super) fn register_atexit(f: extern "C" fn()) -> bool {
    // SAFETY: `f` is a `'static` function taking no arguments, as atexit
    // requires; atexit only stores the pointer and calls it during exit().
    unsafe { libc::atexit(f) == 0 }
}
