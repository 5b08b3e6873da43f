//! Conversations (the TCP and UDP flow table) and TCP reassembly.

mod conversation;
pub mod reassembly;
mod stream;
mod table;
mod window;

pub use conversation::{guess_server, AppFacts, Conversation, DirCounters, Proto, State};
pub use reassembly::{HalfStats, ReassemblyLimits};
pub use stream::{Dir, StreamSink};
pub use table::{FlowHandler, FlowTable, FrameMeta, PacketInfo, TableLimits};
pub use window::WindowScale;
