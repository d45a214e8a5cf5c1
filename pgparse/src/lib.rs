//! PostgreSQL's parser, read without the protobuf round trip.
//!
//! `pg_query::parse` runs libpg_query's C parser, encodes the C parse tree as protobuf (upb
//! checks every one of the ~270 fields of the `Node` oneof for each node), copies the bytes,
//! and decodes them again with prost: about three quarters of its time goes to that round
//! trip. [`parse`] returns the same `pg_query::protobuf::ParseResult`, built straight from the
//! C tree: one function per node type, generated from libpg_query's own description of its
//! protobuf output (`generate/`), so it writes the same fields with the same values.
//!
//! Whatever this reader does not convert exactly as pg_query would (a node type it has no
//! function for, a string that is not UTF-8, a tree nested deeper than prost decodes, a parse
//! error) makes [`parse`] call `pg_query::parse` instead, so the result always equals
//! `pg_query::parse(sql, 0)`. The tests compare the two on every SQL text in the repository,
//! PostgreSQL's own SQL files and generated statements. (One difference: libpg_query's protobuf
//! encoder checks PostgreSQL's stack allowance, and under AddressSanitizer's larger frames it
//! runs out on ordinary statements, so `pg_query::parse` fails where this reader, which has no
//! encoder, returns the tree.)
//!
//! This is the workspace's one crate with `unsafe` code: the C tree is read through raw
//! pointers. The invariants are in [`Reader`]'s documentation.

#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char};

use pg_query::protobuf as pb;

mod bindings;
mod convert;

use bindings as c;

/// The parse tree of `sql`, equal to `pg_query::parse(sql, 0)`'s `protobuf` field.
pub fn parse(sql: &str) -> pg_query::Result<pb::ParseResult> {
    match read(sql) {
        Some(tree) => Ok(tree),
        None => pg_query::parse(sql, 0).map(|parsed| parsed.protobuf),
    }
}

/// The tree built from the C parse tree, or `None` when `pg_query::parse` must answer.
pub fn read(sql: &str) -> Option<pb::ParseResult> {
    // A NUL byte: pg_query::parse reports it.
    let input = CString::new(sql).ok()?;
    let context = MemoryContext::enter();
    // SAFETY: `input` is a NUL-terminated string that outlives the call; the memory context the
    // tree is allocated in was entered above and is left only when `context` drops, after the
    // tree has been read.
    let parsed = unsafe { c::pg_query_raw_parse(input.as_ptr(), 0) };
    // SAFETY: both were allocated with malloc by pg_query_raw_parse and are freed once here,
    // as pg_query_free_protobuf_parse_result frees them (before the tree is read, so that a
    // panic there leaks nothing).
    let failed = !parsed.error.is_null();
    unsafe {
        if failed {
            c::pg_query_free_error(parsed.error);
        }
        libc::free(parsed.stderr_buffer.cast());
    }
    let tree = if failed {
        None
    } else {
        Reader::default().stmts(parsed.tree).ok()
    };
    drop(context);
    tree
}

/// libpg_query's per-call memory context: the parse tree lives in it and is freed with it,
/// also when reading the tree panics.
struct MemoryContext(c::MemoryContext);

impl MemoryContext {
    fn enter() -> Self {
        // SAFETY: no arguments; libpg_query initialises its thread-local state here.
        Self(unsafe { c::pg_query_enter_memory_context() })
    }
}

impl Drop for MemoryContext {
    fn drop(&mut self) {
        // SAFETY: the context entered in `enter`, left exactly once.
        unsafe { c::pg_query_exit_memory_context(self.0) }
    }
}

/// This reader cannot convert the tree exactly as pg_query would: pg_query must.
#[derive(Debug)]
pub(crate) struct Unsupported;

pub(crate) type Result<T> = std::result::Result<T, Unsupported>;

/// Nested messages deeper than this are left to pg_query, whose prost decoder stops at 100
/// (each node is two messages: `Node` and the node's own).
const MAX_MESSAGE_DEPTH: usize = 90;

/// Reads one C parse tree.
///
/// Invariant (what makes the `unsafe` blocks below sound): every pointer a `Reader` method is
/// given comes from the tree `pg_query_raw_parse` returned in [`read`], whose memory context is
/// alive until `read` returns, and a node's tag says which struct it is, as in PostgreSQL.
/// `Reader` is private to this crate and only [`read`] makes one.
#[derive(Default)]
pub(crate) struct Reader {
    depth: usize,
}

/// The tag of the node at `n`, a non-null node of the tree (see `Reader`).
pub(crate) fn tag(n: *const c::Node) -> c::NodeTag::Type {
    // SAFETY: every node starts with its tag.
    unsafe { (*n).type_ }
}

/// The node at `n` as the struct its tag names. (Cast from the raw pointer, whose provenance
/// covers the whole node, not from a `&Node`, which covers only the tag.)
///
/// # Safety
/// `n` is a non-null node of the tree (see `Reader`) and `T` is the struct of its tag.
pub(crate) unsafe fn cast<'t, T>(n: *const c::Node) -> &'t T {
    // SAFETY: as the caller promises.
    unsafe { &*n.cast::<T>() }
}

impl Reader {
    fn stmts(&mut self, list: *mut c::List) -> Result<pb::ParseResult> {
        let mut stmts = Vec::new();
        for cell in Self::cells(list)? {
            let node = Self::pointer(cell);
            if node.is_null() || tag(node) != c::NodeTag::T_RawStmt {
                return Err(Unsupported);
            }
            // SAFETY: a RawStmt, by its tag.
            stmts.push(self.out_RawStmt(unsafe { cast(node) })?);
        }
        Ok(pb::ParseResult {
            version: c::PG_VERSION_NUM as i32,
            stmts,
        })
    }

    /// The cells of a node list (none for a NULL list); each holds a pointer. An integer or
    /// OID list (whose cells hold numbers, not pointers) is left to pg_query.
    fn cells<'t>(list: *const c::List) -> Result<&'t [c::ListCell]> {
        // SAFETY: `list` is NULL or a List of the tree (see `Reader`); its `elements` hold
        // `length` cells.
        unsafe {
            match list.as_ref() {
                Some(l) if l.type_ != c::NodeTag::T_List => Err(Unsupported),
                Some(l) if l.length > 0 => {
                    Ok(std::slice::from_raw_parts(l.elements, l.length as usize))
                }
                _ => Ok(&[]),
            }
        }
    }

    /// The pointer a cell of a node list holds.
    fn pointer(cell: &c::ListCell) -> *const c::Node {
        // SAFETY: `cells` only returns node lists, whose cells hold pointers.
        unsafe { cell.ptr_value }.cast()
    }

    fn enter(&mut self, messages: usize) -> Result<()> {
        self.depth += messages;
        if self.depth > MAX_MESSAGE_DEPTH {
            return Err(Unsupported);
        }
        Ok(())
    }

    /// A node list (`WRITE_LIST_FIELD`): every cell becomes a `Node`, a NULL one an empty one.
    pub(crate) fn list(&mut self, list: *mut c::List) -> Result<Vec<pb::Node>> {
        let cells = Self::cells(list)?;
        let mut out = Vec::new();
        out.resize_with(cells.len(), pb::Node::default);
        for (cell, slot) in cells.iter().zip(out.iter_mut()) {
            self.node_into(Self::pointer(cell), slot)?;
        }
        Ok(out)
    }

    /// Writes the node at `p` into the `Node` message `to` (left unset for NULL).
    fn node_into(&mut self, p: *const c::Node, to: &mut pb::Node) -> Result<()> {
        if p.is_null() {
            return Ok(());
        }
        self.enter(2)?;
        self.tagged(p, &mut to.node)?;
        self.depth -= 2;
        Ok(())
    }

    /// `WRITE_NODE_PTR_FIELD`: absent for NULL. The field may be declared as a more specific
    /// node (`Expr *`): every node starts with its tag.
    pub(crate) fn node_ptr<T>(&mut self, p: *mut T) -> Result<Option<Box<pb::Node>>> {
        if p.is_null() {
            return Ok(None);
        }
        let mut node = Box::<pb::Node>::default();
        self.node_into(p.cast(), &mut node)?;
        Ok(Some(node))
    }

    /// `WRITE_SPECIFIC_NODE_PTR_FIELD`: a field of one node type, absent for NULL.
    pub(crate) fn specific<T, U>(
        &mut self,
        p: *mut T,
        read: fn(&mut Self, &T) -> Result<U>,
    ) -> Result<Option<U>> {
        // SAFETY: NULL or a node of type `T` of the tree (the field's declared type).
        let Some(n) = (unsafe { p.as_ref() }) else {
            return Ok(None);
        };
        self.enter(1)?;
        let out = read(self, n)?;
        self.depth -= 1;
        Ok(Some(out))
    }

    /// `WRITE_STRING_FIELD`: empty for NULL; not UTF-8 is left to pg_query (prost rejects it).
    pub(crate) fn string(&self, p: *const c_char) -> Result<String> {
        if p.is_null() {
            return Ok(String::new());
        }
        // SAFETY: a NUL-terminated string of the tree (see `Reader`).
        let text = unsafe { CStr::from_ptr(p) };
        text.to_str().map(str::to_owned).map_err(|_| Unsupported)
    }

    /// `WRITE_CHAR_FIELD`: empty for `\0`, else the one character.
    pub(crate) fn char(&self, c: c_char) -> Result<String> {
        match c as u8 {
            0 => Ok(String::new()),
            b if b.is_ascii() => Ok(char::from(b).to_string()),
            _ => Err(Unsupported),
        }
    }

    /// `WRITE_BITMAPSET_FIELD`: only planner trees have them; a raw parse tree's are NULL.
    pub(crate) fn bitmapset(&self, p: *mut c::Bitmapset) -> Result<Vec<u64>> {
        if p.is_null() {
            Ok(Vec::new())
        } else {
            Err(Unsupported)
        }
    }

    /// The nodes libpg_query writes by hand: values, `A_Const` and lists.
    pub(crate) fn special(
        &mut self,
        n: *const c::Node,
        to: &mut Option<pb::node::Node>,
    ) -> Result<()> {
        use pb::node::Node;
        // SAFETY (each `cast`): the struct of the tag matched.
        *to = Some(match tag(n) {
            c::NodeTag::T_Integer => Node::Integer(pb::Integer {
                ival: unsafe { cast::<c::Integer>(n) }.ival,
            }),
            c::NodeTag::T_Float => Node::Float(pb::Float {
                fval: self.string(unsafe { cast::<c::Float>(n) }.fval)?,
            }),
            c::NodeTag::T_Boolean => Node::Boolean(pb::Boolean {
                boolval: unsafe { cast::<c::Boolean>(n) }.boolval,
            }),
            c::NodeTag::T_String => Node::String(pb::String {
                sval: self.string(unsafe { cast::<c::String>(n) }.sval)?,
            }),
            c::NodeTag::T_BitString => Node::BitString(pb::BitString {
                bsval: self.string(unsafe { cast::<c::BitString>(n) }.bsval)?,
            }),
            c::NodeTag::T_List => Node::List(pb::List {
                items: self.list(n.cast::<c::List>().cast_mut())?,
            }),
            c::NodeTag::T_A_Const => Node::AConst(self.a_const(unsafe { cast::<c::A_Const>(n) })?),
            _ => return Err(Unsupported),
        });
        Ok(())
    }

    #[allow(non_snake_case)] // named like the generated readers, which call it
    pub(crate) fn out_String(&mut self, n: &c::String) -> Result<pb::String> {
        Ok(pb::String {
            sval: self.string(n.sval)?,
        })
    }

    fn a_const(&mut self, n: &c::A_Const) -> Result<pb::AConst> {
        use pb::a_const::Val;
        let val = if n.isnull {
            None
        } else {
            // SAFETY (the union reads below): a non-null A_Const's `val` holds the value node
            // its tag names.
            let value = &n.val;
            Some(match unsafe { value.node.type_ } {
                c::NodeTag::T_Integer => Val::Ival(pb::Integer {
                    ival: unsafe { value.ival.ival },
                }),
                c::NodeTag::T_Float => Val::Fval(pb::Float {
                    fval: self.string(unsafe { value.fval.fval })?,
                }),
                c::NodeTag::T_Boolean => Val::Boolval(pb::Boolean {
                    boolval: unsafe { value.boolval.boolval },
                }),
                c::NodeTag::T_String => Val::Sval(pb::String {
                    sval: self.string(unsafe { value.sval.sval })?,
                }),
                c::NodeTag::T_BitString => Val::Bsval(pb::BitString {
                    bsval: self.string(unsafe { value.bsval.bsval })?,
                }),
                _ => return Err(Unsupported),
            })
        };
        Ok(pb::AConst {
            isnull: n.isnull,
            location: n.location,
            val,
        })
    }
}
