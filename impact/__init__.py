"""impact: what a change to nixpkgs rebuilds, why, and which branch takes it."""

__version__ = "0.1.0"
