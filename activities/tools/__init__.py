"""The tools agents call: built-in ones, custom HTTP tools and MCP servers' tools."""
