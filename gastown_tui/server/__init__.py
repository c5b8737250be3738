"""The town server: owns the agents, serves its clients (docs/protocol.md)."""
