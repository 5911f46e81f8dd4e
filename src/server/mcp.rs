//! `POST /mcp`: the Model Context Protocol's streamable HTTP transport, JSON responses only (no SSE
//! stream, so `GET /mcp` is a 405). One JSON-RPC message per body, handled by `crate::mcp` exactly as on
//! stdio. The browser rules, the bearer token and the body limit were applied before this runs; the
//! access mode is applied per tool; pool creation obeys `--max-pool-size`/`--max-pools`; a `wait` takes
//! one of the `--max-tails` places while it blocks, and a `notifications/cancelled` in another request
//! (same `Mcp-Session-Id`, or none) stops it, as does the client closing the connection (a `wait` runs
//! on its own thread, like a tail, while the connection's thread watches the client: `http1.rs`).

use super::auth::Access;
use super::conn::{Conn, Stopper};
use super::handlers::{Reply, Request};
use super::respond::HttpError;
use super::tail::TailSlot;
use super::Shared;
use crate::error::Error;
use crate::mcp::{self, rpc, Cancel, Caps, Server, Step};
use std::sync::Arc;

/// The answer to one MCP message: 200 with the JSON-RPC reply, or 202 with no body when there is none
/// (a notification, a response, a cancelled request).
pub(crate) fn answer(
    shared: &Arc<Shared>,
    conn: &Conn,
    req: &Request<'_>,
) -> Result<Reply, HttpError> {
    if let Some(v) = req.header("MCP-Protocol-Version") {
        if !mcp::PROTOCOL_VERSIONS.contains(&v) {
            return Err(HttpError::new(
                400,
                Error::usage(format!("unsupported MCP-Protocol-Version {v:?}")).with_hint(format!(
                    "this server speaks {}",
                    mcp::PROTOCOL_VERSIONS.join(", ")
                )),
            ));
        }
    }
    let session = req.header("Mcp-Session-Id").unwrap_or_default().to_owned();
    let access = mcp::Access {
        reads: shared.access != Access::WriteOnly,
        writes: shared.access != Access::ReadOnly,
    };
    let server = Server::new(shared.pools.client().clone(), access).with_caps(Caps {
        pool_size_max: shared.limits.pool_size_max,
        pools_max: shared.limits.pools_max,
    });
    let reply = match server.handle(&req.body) {
        Step::Reply(v) => Some(v),
        Step::Nothing => None,
        Step::Cancel(id) => {
            shared.mcp_waits.cancel(&(session, id));
            None
        }
        Step::Call(call) if call.blocks() => match TailSlot::acquire(shared) {
            Err(e) => Some(server.refuse(&call, *e.error)),
            Ok(slot) => {
                let key = (session, call.id.clone());
                let out = match shared.mcp_waits.begin(&key) {
                    None => Some(rpc::error(
                        Some(&call.id),
                        rpc::INVALID_REQUEST,
                        "this id is already in use by a request in progress",
                    )),
                    Some(cancel) => {
                        if !conn.set_long(Stopper::Mcp(Arc::clone(&cancel))) {
                            // The client is already gone.
                            cancel.cancel();
                        }
                        let r = server.run(&call, &cancel);
                        conn.clear_long();
                        shared.mcp_waits.end(&key);
                        r
                    }
                };
                drop(slot);
                out
            }
        },
        Step::Call(call) => {
            if call.tool() == "pool_delete" {
                // As DELETE /v0/pools/NAME: drop the cached handle so no request writes to the old file.
                if let Some(name) = call.pool() {
                    shared.pools.forget(name);
                }
            }
            server.run(&call, &Cancel::default())
        }
    };
    Ok(match reply {
        Some(v) => Reply::Json {
            status: 200,
            body: serde_json::to_vec(&v).unwrap_or_default(),
        },
        None => Reply::Json {
            status: 202,
            body: Vec::new(),
        },
    })
}
