//! libuv's intrusive circular doubly linked list (`struct uv__queue`).
//!
//! The nodes live inside C-owned structs, so these helpers work on raw
//! pointers; a node that is in no list points at itself.

use crate::abi::uv__queue;

pub unsafe fn init(q: *mut uv__queue) {
    (*q).next = q;
    (*q).prev = q;
}

pub unsafe fn is_empty(q: *const uv__queue) -> bool {
    std::ptr::eq((*q).next, q)
}

pub unsafe fn head(q: *const uv__queue) -> *mut uv__queue {
    (*q).next
}

pub unsafe fn insert_tail(h: *mut uv__queue, q: *mut uv__queue) {
    (*q).next = h;
    (*q).prev = (*h).prev;
    (*(*q).prev).next = q;
    (*h).prev = q;
}

pub unsafe fn insert_head(h: *mut uv__queue, q: *mut uv__queue) {
    (*q).next = (*h).next;
    (*q).prev = h;
    (*(*q).next).prev = q;
    (*h).next = q;
}

/// Unlinks `q` from whatever list holds it; the node is left self-linked.
/// Removing a self-linked node is harmless.
pub unsafe fn remove(q: *mut uv__queue) {
    if (*q).next.is_null() {
        init(q);
        return;
    }
    (*(*q).prev).next = (*q).next;
    (*(*q).next).prev = (*q).prev;
    init(q);
}

/// Moves every element of `h` to `n` (which is overwritten); `h` ends empty.
pub unsafe fn move_all(h: *mut uv__queue, n: *mut uv__queue) {
    if is_empty(h) {
        init(n);
    } else {
        (*n).next = (*h).next;
        (*n).prev = (*h).prev;
        (*(*n).next).prev = n;
        (*(*n).prev).next = n;
        init(h);
    }
}

/// Converts a pointer to a field back into a pointer to its container.
#[macro_export]
macro_rules! container_of {
    ($ptr:expr, $ty:ty, $($field:tt)+) => {
        ($ptr as *mut u8).sub(std::mem::offset_of!($ty, $($field)+)) as *mut $ty
    };
}

/// Visits each node of `head` once, in order, putting it back at the tail
/// just before `f` sees it: `f` may run user callbacks that remove, add or
/// re-add any node; a node added meanwhile waits for the next visit.
pub unsafe fn for_each_requeued(head: *mut uv__queue, mut f: impl FnMut(*mut uv__queue)) {
    drain(head, |q| {
        insert_tail(head, q);
        f(q);
    });
}

/// Takes every node off `head` and hands each to `f`, unlinked; nodes added
/// while this runs (by `f`'s callbacks) are left on `head` for later.
pub unsafe fn drain(head: *mut uv__queue, mut f: impl FnMut(*mut uv__queue)) {
    let mut tmp = uv__queue {
        next: std::ptr::null_mut(),
        prev: std::ptr::null_mut(),
    };
    let tmp_ptr: *mut uv__queue = &mut tmp;
    move_all(head, tmp_ptr);
    while !is_empty(tmp_ptr) {
        let q = self::head(tmp_ptr);
        remove(q);
        f(q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::null_mut;

    #[test]
    fn insert_remove_move() {
        unsafe {
            let mut h = uv__queue {
                next: null_mut(),
                prev: null_mut(),
            };
            let mut a = uv__queue {
                next: null_mut(),
                prev: null_mut(),
            };
            let mut b = uv__queue {
                next: null_mut(),
                prev: null_mut(),
            };
            let mut n = uv__queue {
                next: null_mut(),
                prev: null_mut(),
            };
            init(&mut h);
            assert!(is_empty(&h));
            insert_tail(&mut h, &mut a);
            insert_tail(&mut h, &mut b);
            assert_eq!(head(&h), &mut a as *mut _);
            move_all(&mut h, &mut n);
            assert!(is_empty(&h));
            assert_eq!(head(&n), &mut a as *mut _);
            remove(&mut a);
            assert_eq!(head(&n), &mut b as *mut _);
            remove(&mut b);
            assert!(is_empty(&n));
            remove(&mut b);
            assert!(is_empty(&n));
        }
    }
}
