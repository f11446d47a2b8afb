"""The email channel: pure parsing, loop detection, quote folding and threading of inbound mail."""
