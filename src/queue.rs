//! libuv's intrusive circular doubly linked list (`struct uv__queue`).
//!
//! The nodes live inside C-owned structs, so these helpers work on raw
//! pointers; a node that is in no list points at itself.

use crate::abi::uv__queue;

/// Makes `q` an empty list (or a node in no list): it points at itself.
///
/// # Safety
/// `q` must be valid for writes of a `uv__queue`.
pub unsafe fn init(q: *mut uv__queue) {
    // SAFETY: the caller gives a writable node.
    unsafe {
        (*q).next = q;
        (*q).prev = q;
    }
}

/// # Safety
/// `q` must be valid for reads of a `uv__queue`.
pub unsafe fn is_empty(q: *const uv__queue) -> bool {
    // SAFETY: the caller gives a readable node.
    std::ptr::eq(unsafe { (*q).next }, q)
}

/// # Safety
/// `q` must be valid for reads of a `uv__queue`.
pub unsafe fn head(q: *const uv__queue) -> *mut uv__queue {
    // SAFETY: the caller gives a readable node.
    unsafe { (*q).next }
}

/// Links `q` in as the last element of `h`.
///
/// # Safety
/// `h` must be a live, well-formed list (every node it links to valid for
/// writes) and `q` a writable node in no list (its links are overwritten).
pub unsafe fn insert_tail(h: *mut uv__queue, q: *mut uv__queue) {
    // SAFETY: `h`, its last node and `q` are writable nodes (the contract).
    unsafe {
        (*q).next = h;
        (*q).prev = (*h).prev;
        (*(*q).prev).next = q;
        (*h).prev = q;
    }
}

/// Links `q` in as the first element of `h`.
///
/// # Safety
/// As for [`insert_tail`].
pub unsafe fn insert_head(h: *mut uv__queue, q: *mut uv__queue) {
    // SAFETY: `h`, its first node and `q` are writable nodes (the contract).
    unsafe {
        (*q).next = (*h).next;
        (*q).prev = h;
        (*(*q).next).prev = q;
        (*h).next = q;
    }
}

/// Unlinks `q` from whatever list holds it; the node is left self-linked.
/// Removing a self-linked node is harmless.
///
/// # Safety
/// `q` must be a writable node that is self-linked, zeroed (null links), or
/// in a live, well-formed list whose neighbours of `q` are writable.
pub unsafe fn remove(q: *mut uv__queue) {
    // SAFETY: `q` and, when it is linked, its two neighbours are writable
    // nodes (the contract); a null `next` means a zeroed, unlinked node.
    unsafe {
        if (*q).next.is_null() {
            init(q);
            return;
        }
        (*(*q).prev).next = (*q).next;
        (*(*q).next).prev = (*q).prev;
        init(q);
    }
}

/// Moves every element of `h` to `n` (which is overwritten); `h` ends empty.
///
/// # Safety
/// `h` must be a live, well-formed list of writable nodes and `n` a writable
/// node in no list.
pub unsafe fn move_all(h: *mut uv__queue, n: *mut uv__queue) {
    // SAFETY: `h`, its first and last nodes and `n` are writable (the contract).
    unsafe {
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
}

/// Converts a pointer to a field back into a pointer to its container.
/// Unsafe to expand (pointer arithmetic): `$ptr` must point at the `$field`
/// of a live `$ty`.
#[macro_export]
macro_rules! container_of {
    ($ptr:expr, $ty:ty, $($field:tt)+) => {
        ($ptr as *mut u8).sub(std::mem::offset_of!($ty, $($field)+)) as *mut $ty
    };
}

/// Visits each node of `head` once, in order, putting it back at the tail
/// just before `f` sees it: `f` may run user callbacks that remove, add or
/// re-add any node; a node added meanwhile waits for the next visit.
///
/// # Safety
/// `head` must be a live, well-formed list of writable nodes, and stay so
/// (and alive) while `f` runs; `f` may unlink or free only nodes it is given
/// or nodes in other lists, after unlinking them.
pub unsafe fn for_each_requeued(head: *mut uv__queue, mut f: impl FnMut(*mut uv__queue)) {
    // SAFETY: `q` comes unlinked from `drain`, and `head` is live (the contract).
    unsafe {
        drain(head, |q| {
            insert_tail(head, q);
            f(q);
        });
    }
}

/// Takes every node off `head` and hands each to `f`, unlinked; nodes added
/// while this runs (by `f`'s callbacks) are left on `head` for later.
///
/// # Safety
/// `head` must be a live, well-formed list of writable nodes. While `f`
/// runs, the nodes not yet handed out may be unlinked with [`remove`] (they
/// sit on a private list) but must stay valid until unlinked.
pub unsafe fn drain(head: *mut uv__queue, mut f: impl FnMut(*mut uv__queue)) {
    let mut tmp = uv__queue {
        next: std::ptr::null_mut(),
        prev: std::ptr::null_mut(),
    };
    let tmp_ptr: *mut uv__queue = &mut tmp;
    // SAFETY: `head` is a live list (the contract) and `tmp` a local node in
    // no list; `tmp` outlives the loop, and each node still on it is valid
    // (the contract) so unlinking it touches only live nodes.
    unsafe {
        move_all(head, tmp_ptr);
        while !is_empty(tmp_ptr) {
            let q = self::head(tmp_ptr);
            remove(q);
            f(q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::null_mut;

    #[test]
    fn insert_remove_move() {
        // SAFETY: every node is a local that outlives the test's lists.
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
