# A test file's function, given the package set, made into a VM test by nixos/lib/testing.nix.
f: { system, pkgs }:

import ../lib/testing.nix { inherit system pkgs; } (f { inherit pkgs; inherit (pkgs) lib; })
