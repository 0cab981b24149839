"""Test helpers other packages and the examples can import: an offline Braket (`stub_server`)."""
