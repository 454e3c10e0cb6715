//! The four N-API calls made per message, as raw callbacks.
//!
//! napi-rs's generated wrappers cost ~170 ns for a one-argument call here (argument scopes,
//! borrow bookkeeping); a raw callback that reads its numbers and returns one costs ~60 ns, and
//! these run once or twice per message on both sides of the channel. They take and return only
//! numbers: a missing or non-number argument reads as NaN, which the core treats as unusable.
//! The logic stays in the core and in src/binding.rs; this file only moves numbers.
#![allow(unsafe_code)]

use crate::binding::{receive, sent_number, unpack_lane, whole, with_core, CLOCK};
use crate::core::envelope::sequence_number;
use crate::core::error::{CoreError, ErrorClass};
use crate::core::{Deadline, NsId, PeerId};
use napi::sys;
use napi::JsValue;
use std::cell::Cell;
use std::ffi::{c_char, CString};
use std::ptr;

/// The callback's first `N` arguments as numbers, NaN where absent or not a number.
///
/// # Safety
/// `env` and `info` must be the ones N-API passed to the running callback.
unsafe fn numbers<const N: usize>(env: sys::napi_env, info: sys::napi_callback_info) -> [f64; N] {
    let mut out = [f64::NAN; N];
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    // SAFETY: argv has room for argc values; this/data outputs may be null per the N-API docs.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        return out;
    }
    for (slot, &value) in out.iter_mut().zip(argv.iter()).take(argc.min(N)) {
        let mut number = f64::NAN;
        // SAFETY: `value` came from napi_get_cb_info for this callback; a non-number only makes
        // the call fail, leaving `number` NaN.
        if unsafe { sys::napi_get_value_double(env, value, &mut number) } == sys::Status::napi_ok {
            *slot = number;
        }
    }
    out
}

/// A JavaScript number (null, which N-API reads as undefined, if even that fails).
///
/// # Safety
/// `env` must be the running callback's.
unsafe fn number(env: sys::napi_env, value: f64) -> sys::napi_value {
    let mut out = ptr::null_mut();
    // SAFETY: `out` is a valid place for the result.
    unsafe { sys::napi_create_double(env, value, &mut out) };
    out
}

/// Throws the core error as the JavaScript class the SPEC names.
///
/// # Safety
/// `env` must be the running callback's.
unsafe fn throw(env: sys::napi_env, err: CoreError) -> sys::napi_value {
    let message = CString::new(err.to_string()).unwrap_or_default();
    let code = CString::new(err.code()).unwrap_or_default();
    // SAFETY: `code` and `message` are NUL-terminated and outlive the call.
    unsafe {
        match err.class() {
            ErrorClass::TypeError => {
                sys::napi_throw_type_error(env, code.as_ptr(), message.as_ptr())
            }
            ErrorClass::Error => sys::napi_throw_error(env, code.as_ptr(), message.as_ptr()),
        };
    }
    ptr::null_mut()
}

fn lane(value: f64) -> Option<(PeerId, NsId)> {
    whole(value).and_then(unpack_lane)
}

/// `coreSend(lane)`: a message without a handle; its seq (> 0) to write now, or `-(slot + 1)`
/// when queued. Throws "Worker is dead" for a peer the core no longer has.
unsafe extern "C" fn core_send(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY (all calls below): env and info are this callback's.
    let [value] = unsafe { numbers::<1>(env, info) };
    let result = match lane(value) {
        Some((peer, ns)) => with_core(|core| core.send(peer, ns, false, false)),
        None => Err(CoreError::PeerGone),
    };
    match result {
        Ok(sent) => unsafe { number(env, sent_number(sent)) },
        Err(err) => unsafe { throw(env, err) },
    }
}

/// `coreWatchSent(lane, seq, deadline)`: awaits the acknowledgement until `deadline` on the
/// current clock; the slot, or -1 when the peer is gone, or -2 for unusable numbers.
unsafe extern "C" fn core_watch_sent(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY (all calls below): env and info are this callback's.
    let [value, seq, at] = unsafe { numbers::<3>(env, info) };
    let clock = CLOCK.with(Cell::get);
    let result = match (lane(value), sequence_number(seq)) {
        (Some((peer, ns)), Some(seq)) => {
            match with_core(|core| core.watch_sent(peer, ns, seq, Deadline { clock, at })) {
                Ok(slot) => f64::from(slot),
                Err(CoreError::PeerGone) => -1.0,
                Err(_) => -2.0,
            }
        }
        _ => -2.0,
    };
    unsafe { number(env, result) }
}

/// `coreSettle(lane, seq)`: forgets the awaited message; its slot, or -1 when none was awaited.
unsafe extern "C" fn core_settle(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY (all calls below): env and info are this callback's.
    let [value, seq] = unsafe { numbers::<2>(env, info) };
    let slot = match (lane(value), sequence_number(seq)) {
        (Some((peer, ns)), Some(seq)) => with_core(|core| core.settle(peer, ns, seq)),
        _ => None,
    };
    unsafe { number(env, slot.map_or(-1.0, f64::from)) }
}

/// `coreReceive(envelope, number)`: see `receive` in src/binding.rs.
unsafe extern "C" fn core_receive(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY (all calls below): env and info are this callback's.
    let [envelope, value] = unsafe { numbers::<2>(env, info) };
    unsafe { number(env, receive(envelope, value) as f64) }
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

const FAST: [(&std::ffi::CStr, Callback); 4] = [
    (c"coreSend", core_send),
    (c"coreWatchSent", core_watch_sent),
    (c"coreSettle", core_settle),
    (c"coreReceive", core_receive),
];

#[napi_derive::napi(module_exports)]
pub fn register(exports: napi::bindgen_prelude::Object, env: napi::Env) -> napi::Result<()> {
    for (name, callback) in FAST {
        let mut function = ptr::null_mut();
        // SAFETY: a valid env and exports object from module registration; `name` is a
        // NUL-terminated static string, so NAPI_AUTO_LENGTH-style length via strlen is fine.
        let status = unsafe {
            sys::napi_create_function(
                env.raw(),
                name.as_ptr() as *const c_char,
                name.to_bytes().len() as isize,
                Some(callback),
                ptr::null_mut(),
                &mut function,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_status(napi::Status::GenericFailure));
        }
        // SAFETY: as above; `function` was just created in this env.
        let status = unsafe {
            sys::napi_set_named_property(env.raw(), exports.raw(), name.as_ptr(), function)
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_status(napi::Status::GenericFailure));
        }
    }
    Ok(())
}
